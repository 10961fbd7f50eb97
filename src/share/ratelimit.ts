/**
 * Long-lived slots (live-update streams) shared fairly: each organisation holds at most
 * `perOrganisation`, and the last `reserved` of `total` are kept for the analysis center, so no
 * other organisation, however many tokens it has, can lock it out.
 */
export class StreamSlots {
  private readonly held = new Map<string, number>();
  private used = 0;
  /** Slots held by organisations other than the analysis center. */
  private others = 0;

  constructor(
    private readonly total: number,
    private readonly perOrganisation: number,
    private readonly reserved: number,
  ) {}

  /** Takes a slot for `org`; the returned function gives it back (once), or undefined when full. */
  take(org: string, analysisCenter: boolean): (() => void) | undefined {
    const mine = this.held.get(org) ?? 0;
    if (mine >= this.perOrganisation || this.used >= this.total) return undefined;
    if (!analysisCenter && this.others >= this.total - this.reserved) return undefined;
    this.held.set(org, mine + 1);
    this.used++;
    if (!analysisCenter) this.others++;
    let given = false;
    return () => {
      if (given) return;
      given = true;
      this.used--;
      if (!analysisCenter) this.others--;
      const left = (this.held.get(org) ?? 1) - 1;
      if (left > 0) this.held.set(org, left);
      else this.held.delete(org);
    };
  }
}
