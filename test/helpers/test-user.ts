/**
 * An ordinary user for the unprivileged-build tests (made by root, idempotently): the account
 * (useradd, no home), and its /etc/subuid and /etc/subgid lines, which the tests give and take
 * away. removeTestUser() takes back what makeTestUser() made. The CLI runs as that user through
 * setpriv with a clean set of groups.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';

export const TEST_USER = 'dit-unpriv';

export interface TestUser { name: string; uid: number; gid: number; subStart: number }

function idOf(flag: '-u' | '-g'): number | undefined {
  const r = spawnSync('id', [flag, TEST_USER], { encoding: 'utf8' });
  return r.status === 0 ? Number(r.stdout.trim()) : undefined;
}

function withoutUser(file: string): string[] {
  const lines = fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
  return lines.filter((l) => !l.startsWith(`${TEST_USER}:`));
}

/** A free subordinate range: after every range already given to anyone. */
function freeStart(): number {
  let end = 100000;
  for (const file of ['/etc/subuid', '/etc/subgid']) {
    for (const l of withoutUser(file)) {
      const [, s, c] = l.split(':');
      end = Math.max(end, Number(s) + Number(c));
    }
  }
  return end;
}

/** Gives the test user (or takes away, with `false`) its subordinate ids. */
export function setSubIds(user: TestUser, on: boolean): void {
  for (const file of ['/etc/subuid', '/etc/subgid']) {
    const lines = withoutUser(file);
    if (on) lines.push(`${TEST_USER}:${user.subStart}:65536`);
    fs.writeFileSync(file, lines.map((l) => `${l}\n`).join(''));
  }
}

/** Makes the user (if needed) with subordinate ids. Root only. */
export function makeTestUser(): TestUser {
  if (idOf('-u') === undefined) execFileSync('useradd', ['--no-create-home', '--shell', '/usr/sbin/nologin', TEST_USER]);
  const user = { name: TEST_USER, uid: idOf('-u')!, gid: idOf('-g')!, subStart: freeStart() };
  setSubIds(user, true);
  return user;
}

/** Removes the user and its subordinate ids. */
export function removeTestUser(): void {
  if (idOf('-u') !== undefined) spawnSync('userdel', [TEST_USER], { stdio: 'ignore' });
  for (const file of ['/etc/subuid', '/etc/subgid']) {
    if (fs.existsSync(file)) fs.writeFileSync(file, withoutUser(file).map((l) => `${l}\n`).join(''));
  }
}

/** The command prefix that runs a program as the test user (setpriv: real and effective ids, no groups). */
export function asUser(user: TestUser): string[] {
  return ['setpriv', `--reuid=${user.uid}`, `--regid=${user.gid}`, '--clear-groups'];
}
