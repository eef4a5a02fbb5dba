#!/usr/bin/env node
// The compiled CLI lives in dist/ (`npm run build`).
import '../dist/src/cli/main.js';
