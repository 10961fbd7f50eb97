/** For tests on real PostgreSQL: a database of their own next to the test one, dropped afterwards. */
import pg from 'pg';

export async function scratchDatabase(
  base: string,
  name: string,
): Promise<{ url: string; drop: () => Promise<void> }> {
  if (!/^[a-z0-9_]{1,63}$/.test(name)) throw new Error(`bad database name "${name}"`);
  const run = async (statement: string) => {
    const client = new pg.Client({ connectionString: base });
    await client.connect();
    try {
      await client.query(statement);
    } finally {
      await client.end();
    }
  };
  await run(`CREATE DATABASE ${name}`);
  const url = new URL(base);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => run(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}
