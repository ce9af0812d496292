// The what-if changes as users spell them, and SetPolicy's settings.
import { describe, expect, it } from 'vitest';
import { policyCommand } from '../grpc/oom-grpc.js';
import { cgroupBytes, parseChanges, runOnlyNote } from './changes.js';

describe('parseChanges', () => {
  it('reads every kind of change into a decision change and a machine change', () => {
    const c = parseChanges({
      policy: 'linux-2.6.18',
      adj: ['1001=-500'],
      sysctl: ['vm.panic_on_oom=1', 'overcommit_memory=2'],
      cgroup: ['/tenants/a:memory.oom.group=1', '/tenants/a:memory.max=64M', '/tenants/b:memory.swap.max=max', '/tenants/b:memory.high=1G'],
    });
    expect(c.decision).toEqual([
      { kind: 'profile', profile: 'linux-2.6.18' },
      { kind: 'adj', pid: 1001, oomScoreAdj: -500 },
      { kind: 'sysctl', name: 'panic_on_oom', value: 1 },
      { kind: 'memcg', memcg: '/tenants/a', oomGroup: true },
      { kind: 'memcg', memcg: '/tenants/a', memoryMaxPages: 16384 }, // 64 MiB / 4 KiB
      { kind: 'memcg', memcg: '/tenants/b', swapMaxPages: -1 },
    ]);
    expect(c.machine).toEqual([
      { kind: 'profile', profile: 'linux-2.6.18' },
      { kind: 'adj', pid: 1001, oomScoreAdj: -500 },
      { kind: 'sysctl', name: 'panic_on_oom', value: 1 },
      { kind: 'sysctl', name: 'overcommit_memory', value: 2 },
      { kind: 'cgroup', path: '/tenants/a', file: 'memory.oom.group', value: 1 },
      { kind: 'cgroup', path: '/tenants/a', file: 'memory.max', value: 64 * 2 ** 20 },
      { kind: 'cgroup', path: '/tenants/b', file: 'memory.swap.max', value: -1 },
      { kind: 'cgroup', path: '/tenants/b', file: 'memory.high', value: 2 ** 30 },
    ]);
    // overcommit and memory.high decide which allocations succeed: only --continue shows them
    expect(c.runOnly).toEqual(['vm.overcommit_memory=2', '/tenants/b:memory.high=1G']);
    expect(runOnlyNote(c.runOnly)).toContain('Add --continue');
    expect(runOnlyNote([])).toBeNull();
  });

  it('memory.max values: bytes rounded down to pages, K/M/G/T suffixes, max', () => {
    expect(cgroupBytes('4097', 'memory.max')).toBe(4097);
    expect(cgroupBytes('2k', 'memory.max')).toBe(2048);
    expect(cgroupBytes('max', 'memory.max')).toBe(-1);
    expect(parseChanges({ cgroup: ['/a:memory.max=8191'] }).decision).toEqual([{ kind: 'memcg', memcg: '/a', memoryMaxPages: 1 }]);
  });

  it.each([
    [{ adj: ['x'] }, '--adj takes PID=VALUE'],
    [{ adj: ['5=1001'] }, 'oom_score_adj must be -1000..1000'],
    [{ sysctl: ['vm.nope=1'] }, 'unknown sysctl vm.nope'],
    [{ sysctl: ['vm.panic_on_oom=3'] }, 'vm.panic_on_oom takes 0, 1 or 2'],
    [{ cgroup: ['a:memory.max=1'] }, '--cgroup takes PATH:FILE=VALUE'],
    [{ cgroup: ['/a:memory.max=lots'] }, 'memory.max takes bytes'],
    [{ cgroup: ['/a:memory.oom.group=2'] }, 'memory.oom.group takes 0 or 1'],
    [{ cgroup: ['/a:memory.current=1'] }, 'cannot change memory.current'],
    [{ policy: 'linux-5.10' }, '--policy takes linux-6.18 or linux-2.6.18'],
    [{}, 'name at least one change'],
  ])('refuses %j', (spec, message) => {
    expect(() => parseChanges(spec)).toThrow(message);
    try {
      parseChanges(spec);
    } catch (e) {
      expect(e).toMatchObject({ code: 'oom.BAD_WHATIF', kind: 'invalid' });
    }
  });
});

describe('policyCommand (SetPolicy settings)', () => {
  it('turns killers on and off, and reads options in snake_case or camelCase with their types', () => {
    expect(policyCommand('earlyoom=on')).toEqual({ type: 'EnableUserspaceKiller', kind: 'earlyoom' });
    expect(policyCommand('systemd-oomd=off')).toEqual({ type: 'DisableUserspaceKiller', kind: 'systemd-oomd' });
    expect(policyCommand('earlyoom.mem_term_percent=15')).toEqual({ type: 'EnableUserspaceKiller', kind: 'earlyoom', options: { memTermPercent: 15 } });
    expect(policyCommand('earlyoom.sortByRss=true')).toEqual({ type: 'EnableUserspaceKiller', kind: 'earlyoom', options: { sortByRss: true } });
    expect(policyCommand('earlyoom.prefer=^(worker|batch)')).toEqual({ type: 'EnableUserspaceKiller', kind: 'earlyoom', options: { prefer: '^(worker|batch)' } });
    expect(policyCommand('systemd-oomd.swap_monitored=/a, /b')).toEqual({ type: 'EnableUserspaceKiller', kind: 'systemd-oomd', options: { swapMonitored: ['/a', '/b'] } });
  });

  it('sends sysctls to MachineService.Sysctl and refuses what it cannot read', () => {
    expect(() => policyCommand('vm.panic_on_oom=1')).toThrow('is a sysctl');
    expect(() => policyCommand('earlyoom=maybe')).toThrow('takes on or off');
    expect(() => policyCommand('oomd=on')).toThrow('cannot read');
  });
});
