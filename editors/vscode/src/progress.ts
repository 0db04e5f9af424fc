// The jobs the server reports with `$/progress` (indexing, model runs), for the status bar and
// Cancel Run. Pure: the extension feeds it the begin/report/end values it receives.

export interface WorkDoneBegin {
  kind: 'begin';
  title: string;
  cancellable?: boolean;
  message?: string;
  percentage?: number;
}
export interface WorkDoneReport {
  kind: 'report';
  cancellable?: boolean;
  message?: string;
  percentage?: number;
}
export interface WorkDoneEnd {
  kind: 'end';
  message?: string;
}
export type WorkDoneValue = WorkDoneBegin | WorkDoneReport | WorkDoneEnd;

export interface Job {
  token: string | number;
  title: string;
  message?: string;
  percentage?: number;
  cancellable: boolean;
}

export class JobTracker {
  private readonly jobs = new Map<string | number, Job>();

  /** Applies one `$/progress` value; returns the job, or undefined once it ended. */
  update(token: string | number, value: WorkDoneValue): Job | undefined {
    if (value.kind === 'begin') {
      const job: Job = {
        token,
        title: value.title,
        message: value.message,
        percentage: value.percentage,
        cancellable: value.cancellable ?? false,
      };
      this.jobs.set(token, job);
      return job;
    }
    const job = this.jobs.get(token);
    if (value.kind === 'end') {
      this.jobs.delete(token);
      return undefined;
    }
    if (job === undefined) {
      return undefined;
    }
    if (value.message !== undefined) {
      job.message = value.message;
    }
    if (value.percentage !== undefined) {
      job.percentage = value.percentage;
    }
    if (value.cancellable !== undefined) {
      job.cancellable = value.cancellable;
    }
    return job;
  }

  forget(token: string | number): void {
    this.jobs.delete(token);
  }

  clear(): void {
    this.jobs.clear();
  }

  /** Running jobs, oldest first. */
  list(): Job[] {
    return [...this.jobs.values()];
  }

  cancellable(): Job[] {
    return this.list().filter((j) => j.cancellable);
  }

  /** The status-bar suffix for the newest job: "Documenting 3/12 shop.cart.Cart.add (25%)". */
  statusText(): string | undefined {
    const all = this.list();
    const job = all[all.length - 1];
    if (job === undefined) {
      return undefined;
    }
    let text = job.title;
    if (job.message) {
      text += ` ${job.message}`;
    }
    if (job.percentage !== undefined) {
      text += ` (${Math.round(job.percentage)}%)`;
    }
    if (all.length > 1) {
      text += ` +${all.length - 1}`;
    }
    return text;
  }
}
