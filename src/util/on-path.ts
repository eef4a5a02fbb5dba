// Whether a program is installed: an executable file of that name in one of PATH's folders,
// and in the system folders too where the caller asks (root's tools live in /usr/sbin, which
// a user's PATH may lack).
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

export const SYSTEM_DIRS = ['/usr/sbin', '/sbin', '/usr/bin', '/bin'];

export function onPath(cmd: string, path = process.env.PATH ?? '', extraDirs: readonly string[] = []): boolean {
  return [...path.split(delimiter), ...extraDirs].filter(Boolean).some((dir) => {
    try {
      accessSync(join(dir, cmd), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}
