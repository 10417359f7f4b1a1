/**
 * The hot reads of PostgreSQL (list pages, details, searches) sent on a few pipelined connections, the
 * statements of one turn of the event loop written to each connection at once.
 *
 * Through the pool, each statement is a write of its own to a connection of its own, and a wake-up of
 * that connection's server process: under load, the service spent more of its time in those writes
 * (`writev`, 28% of its busy time in a profile of the bench's searches) than in anything else, and a
 * search sends two to four statements where a list page sends one. Here a statement is written to the
 * lane with the fewest statements in flight, without waiting for that lane's earlier answers (pg's
 * `pipeline` mode: each statement keeps its own Sync, so one statement's error fails that statement
 * only), and every lane holds its writes until the turn ends (`cork` until `setImmediate`): the
 * statements of every request served in the same turn go out in one write per lane.
 *
 * A lane whose connection fails is replaced at its next use; the statements in flight on it fail (as
 * they would on a pooled connection), and nothing is retried here. A statement waits for those written
 * before it on its lane: one that runs long holds them up (new ones go to the other lane), and one past
 * the client's read timeout (DATABASE_TIMEOUT_MS + 0.5 s: the server's statement_timeout ends a statement
 * first, so only a server that stopped answering gets there) cuts its lane's connection, failing the
 * statements behind it as an outage would.
 */
import pg from 'pg';
import { StoreUnreachable } from './errors.js';

export interface ReadQuery {
  readonly name?: string;
  readonly text: string;
  readonly values?: unknown[];
  readonly rowMode?: 'array';
}

/** Where the hot reads are sent: PipelinedReads, or (a pool of one connection) the pool itself. */
export interface HotReads {
  query<R = unknown>(query: ReadQuery): Promise<{ rows: R[] }>;
}

/** The pool as HotReads. */
export function poolReads(pool: pg.Pool): HotReads {
  return { query: async <R>(query: ReadQuery) => (await pool.query(query as pg.QueryConfig)) as unknown as { rows: R[] } };
}

interface Lane {
  client: pg.Client;
  /** Resolves once connected; rejects if the connection could not be made. */
  ready: Promise<void>;
  inFlight: number;
  broken: boolean;
  corked: boolean;
}

export class PipelinedReads implements HotReads {
  private readonly lanes: Array<Lane | undefined>;
  private uncorkScheduled = false;
  private closed = false;

  constructor(
    private readonly config: pg.ClientConfig,
    lanes: number,
    private readonly onError: (err: Error) => void,
  ) {
    this.lanes = new Array<Lane | undefined>(Math.max(1, lanes)).fill(undefined);
  }

  async query<R = unknown>(query: ReadQuery): Promise<{ rows: R[] }> {
    if (this.closed) throw new Error('the store is closed');
    const lane = this.pick();
    lane.inFlight++;
    try {
      await lane.ready;
      if (!lane.corked) {
        lane.corked = true;
        streamOf(lane.client).cork();
        this.scheduleUncork();
      }
      return (await lane.client.query(query as pg.QueryConfig)) as unknown as { rows: R[] };
    } finally {
      lane.inFlight--;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(
      this.lanes.map(async (lane, i) => {
        this.lanes[i] = undefined;
        if (lane && !lane.broken) await lane.client.end().catch(() => undefined);
      }),
    );
  }

  /** The lane with the fewest statements in flight; a missing or broken one is (re)opened. */
  private pick(): Lane {
    let best: Lane | undefined;
    for (let i = 0; i < this.lanes.length; i++) {
      let lane = this.lanes[i];
      if (lane === undefined || lane.broken) {
        lane = this.open();
        this.lanes[i] = lane;
      }
      if (best === undefined || lane.inFlight < best.inFlight) best = lane;
      if (best.inFlight === 0) break;
    }
    return best as Lane;
  }

  private open(): Lane {
    const client = new pg.Client({ ...this.config, pipeline: true } as pg.ClientConfig);
    const lane: Lane = { client, ready: Promise.resolve(), inFlight: 0, broken: false, corked: false };
    const broken = (err?: Error) => {
      lane.broken = true;
      if (err) this.onError(err);
    };
    client.on('error', broken);
    client.on('end', () => broken());
    lane.ready = client.connect().then(
      () => undefined,
      (err: unknown) => {
        broken();
        // pg's own message for a connection that timed out is a bare "timeout expired".
        throw new StoreUnreachable({ cause: err });
      },
    );
    // A lane nobody waits on must not turn a failed connection into an unhandled rejection.
    lane.ready.catch(() => undefined);
    return lane;
  }

  private scheduleUncork(): void {
    if (this.uncorkScheduled) return;
    this.uncorkScheduled = true;
    setImmediate(() => {
      this.uncorkScheduled = false;
      for (const lane of this.lanes) {
        if (!lane?.corked) continue;
        lane.corked = false;
        streamOf(lane.client).uncork();
      }
    });
  }
}

/** The client's socket (pg does not declare `connection` in its types). */
const streamOf = (client: pg.Client): { cork(): void; uncork(): void } =>
  (client as unknown as { connection: { stream: { cork(): void; uncork(): void } } }).connection.stream;
