#!/usr/bin/env node
// The c360 command: registers tsx so the TypeScript sources run as they are (no build step), then runs the CLI.
import { register } from 'tsx/esm/api';
register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
// The command is done: a socket a client library failed to close (an AMQP connection to a namespace that never
// answered) must not keep the process alive. Not unref'd work would end on its own well within this grace.
setTimeout(() => process.exit(), 1000).unref();
