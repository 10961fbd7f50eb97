/** `tsunagi web takedown ...` and `tsunagi web campaigns`: the web room's operations. */
import type { Command } from 'commander';
import type { CliContext } from './context.ts';

export function registerWebOps(web: Command, ctx: CliContext): void {
  void web;
  void ctx;
}
