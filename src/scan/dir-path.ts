// A directory's path in a walk, kept as a chain of names so that making one for a child costs
// O(1) whatever the depth; the bytes are made only for what is printed.

/**
 * A directory's path as a chain of names: O(1) to make for a child, turned into bytes (O(length))
 * only when asked. The root's node holds the root's bytes ('' for '/').
 */
export class DirPath {
  constructor(readonly parent: DirPath | null, readonly name: Buffer) {}

  /** The path as bytes. */
  bytes(): Buffer {
    if (this.parent === null) return this.name.length ? this.name : Buffer.from('/');
    let len = 0;
    for (let n: DirPath | null = this; n; n = n.parent) len += n.name.length + (n.parent ? 1 : 0);
    const out = Buffer.allocUnsafe(len);
    let at = len;
    for (let n: DirPath | null = this; n; n = n.parent) {
      at -= n.name.length;
      n.name.copy(out, at);
      if (n.parent) out[--at] = 47;
    }
    return out;
  }
}
