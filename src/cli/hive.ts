import { Command } from 'commander';

export function hiveCommand(): Command {
  return new Command('hive').description('read and edit offline registry hive files');
}
