#!/usr/bin/env node
import { main } from './cli/main.js';

/** The `dcr-bridge` command: with no arguments it serves, as `dcr-bridge serve` does. */
void main(process.argv.slice(2));
