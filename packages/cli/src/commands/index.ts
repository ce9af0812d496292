import type { Command } from '../command.js';

export const COMMANDS: readonly Command[] = [];
