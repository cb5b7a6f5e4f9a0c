#!/usr/bin/env node
// The `dcr-bridge` command. A file of its own, committed, so that installing the workspace links the bin before
// anything is built (a bin pointing into dist/ fails to link on a fresh install); it runs the built server.
import '../dist/bin.js';
