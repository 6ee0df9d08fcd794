/** The part of a `pg.Client` the helper needs, so this file depends on no driver itself. */
export interface AdminClient {
  connect(): Promise<unknown>;
  query(text: string, values?: unknown[]): Promise<{ rowCount: number | null }>;
  end(): Promise<void>;
}

/**
 * Returns `url` with its database replaced by `name`, creating that database first if needed:
 * each example's test gets a database of its own on the CI server, so parallel suites never
 * clash.
 */
export async function exampleDatabase(
  url: string,
  name: string,
  client: (url: string) => AdminClient,
): Promise<string> {
  const admin = client(url);
  await admin.connect();
  try {
    const found = await admin.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]);
    if (found.rowCount === 0) {
      await admin.query(`CREATE DATABASE "${name.replaceAll('"', '""')}"`).catch((error) => {
        // Another run created it in between: that is what we wanted.
        if ((error as { code?: string }).code !== "42P04") throw error;
      });
    }
  } finally {
    await admin.end();
  }
  const target = new URL(url);
  target.pathname = `/${name}`;
  return target.href;
}
