/**
 * One run at a time of `work` (which returns how many items it handled). A call during a run
 * starts no second one: it asks that run to go round once more — what the caller announces may
 * have been committed after the run read — and shares that run's total.
 */
export interface SingleFlight {
  run(): Promise<number>;
  /** Resolves when no run is under way (a failed run included). */
  settled(): Promise<void>;
}

export function singleFlight(work: () => Promise<number>): SingleFlight {
  let running: Promise<number> | undefined;
  let again = false;
  return {
    run() {
      if (running) {
        again = true;
        return running;
      }
      running = (async () => {
        let total = 0;
        do {
          again = false;
          total += await work();
        } while (again);
        return total;
      })().finally(() => {
        running = undefined;
      });
      return running;
    },
    async settled() {
      await running?.catch(() => undefined);
    },
  };
}
