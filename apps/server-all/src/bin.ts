#!/usr/bin/env node
import { main } from '@dcr-bridge/server';

/** `dcr-bridge`, the server's command, with every adapter installed beside it. */
void main(process.argv.slice(2));
