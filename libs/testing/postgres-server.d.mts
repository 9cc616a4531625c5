export declare function pingPostgres(url: string, timeoutMs?: number): Promise<{ ok: boolean; error?: string }>;

export interface EmbeddedPostgresServer {
  /** `postgres://postgres:<generated password>@127.0.0.1:<port>/postgres` */
  url: string;
  port: number;
  dataDir: string;
  version: string;
  /** Ends the server and deletes its data folder. */
  stop(): Promise<void>;
}

export declare function startEmbeddedPostgres(options?: {
  port?: number;
  dataDir?: string;
}): Promise<EmbeddedPostgresServer>;
