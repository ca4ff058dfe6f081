/**
 * One port space (a scope and a protocol), as a table of 65,536 owner slots: the same
 * idea as Kubernetes' bitmap port allocator, with the owner kept so that a collision can
 * name both parties. Every operation is O(1) except `next`, which scans the range.
 */
export class PortAllocator {
  private readonly owners = new Int32Array(65536).fill(-1);

  /** Takes `port` for `owner`; returns the previous owner when the port was taken, else -1. */
  public allocate(port: number, owner: number): number {
    const previous = this.owners[port];
    if (previous === -1) this.owners[port] = owner;
    return previous;
  }

  public has(port: number): boolean {
    return this.owners[port] !== -1;
  }

  public ownerOf(port: number): number {
    return this.owners[port];
  }

  public release(port: number): void {
    this.owners[port] = -1;
  }
}
