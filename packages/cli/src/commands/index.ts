import type { Command } from '../command.js';
import { demo } from './demo.js';
import { machine, meminfo, proc, ps, sysctl } from './inspect.js';
import { exportLog, replay, tail } from './log.js';
import { serve } from './serve.js';

export const COMMANDS: readonly Command[] = [serve, demo, machine, ps, meminfo, proc, sysctl, tail, exportLog, replay];
