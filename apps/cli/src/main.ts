#!/usr/bin/env node
// The `bench` command line. Each verb lives in its own folder and registers itself in commands.ts.
import 'reflect-metadata';
import { Command } from 'commander';
import { COMMANDS } from './commands';

export function buildProgram(): Command {
  const program = new Command('bench')
    .description('Controller for iPhone restore benches')
    .showHelpAfterError();
  for (const register of COMMANDS) register(program);
  return program;
}

if (require.main === module) {
  void buildProgram().parseAsync(process.argv);
}
