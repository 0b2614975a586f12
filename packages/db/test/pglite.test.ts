// What the embedded database's design relies on: the behaviour of
// @electric-sql/pglite-socket 0.2.17 in front of PGlite (see src/pglite.ts).
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PGLITE_SOCKET_MAX_CONNECTIONS } from "../src/index.ts";
import { createTestDatabase, type TestDatabase } from "../src/testing.ts";

describe("PGlite behind pglite-socket", () => {
  let db: TestDatabase;
  const clients: pg.Client[] = [];
  beforeAll(async () => {
    db = await createTestDatabase({ kind: "pglite" });
  });
  afterAll(async () => {
    await Promise.allSettled(clients.map((client) => client.end()));
    await db?.close();
  });

  async function connect(): Promise<pg.Client> {
    const client = new pg.Client(db.url);
    client.on("error", () => {});
    await client.connect();
    clients.push(client);
    return client;
  }

  it("serves Prisma through one connection: concurrent queries and transactions all complete", async () => {
    await db.prisma.workspace.create({ data: { id: "ws_1", name: "Acme", slug: "acme" } });
    const results = await Promise.all([
      ...Array.from({ length: 20 }, () => db.prisma.workspace.count()),
      db.prisma.$transaction(async (tx) => {
        await tx.workspace.update({ where: { id: "ws_1" }, data: { name: "Acme 2" } });
        return tx.workspace.count();
      }),
    ]);
    expect(results).toEqual(Array.from({ length: 21 }, () => 1));
  });

  it("makes other connections wait while one is inside a transaction", async () => {
    const [a, b] = [await connect(), await connect()];
    await a.query("BEGIN");
    await a.query(`UPDATE "workspaces" SET name = 'in tx' WHERE id = 'ws_1'`);
    let bDone = false;
    const bQuery = b.query(`SELECT name FROM "workspaces" WHERE id = 'ws_1'`).then((result) => {
      bDone = true;
      return result;
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(bDone).toBe(false);
    await a.query("ROLLBACK");
    expect((await bQuery).rows).toEqual([{ name: "Acme 2" }]);
  });

  it("keeps each connection's extended-protocol batch (Parse … Sync) whole: no statement mixes with another's", async () => {
    // Unnamed statements with different parameter counts from four connections at once, with
    // parameters large enough that a batch arrives in several TCP reads (the socket server
    // queues each message as it is read): if one connection's Bind met another's Parse,
    // PostgreSQL would answer 08P01 or a wrong row.
    const connections = [await connect(), await connect(), await connect(), await connect()];
    const queries = Array.from({ length: 200 }, (_, i) => {
      const client = connections[i % connections.length] as pg.Client;
      const arity = (i % 4) + 1;
      const params = Array.from({ length: arity }, (_, k) => `${i}-${k}-${"x".repeat(100_000)}`);
      const columns = params.map((_, k) => `$${k + 1}::text AS c${k}`).join(", ");
      return client.query(`SELECT ${columns}`, params).then((result) => ({ result, params }));
    });
    for (const { result, params } of await Promise.all(queries))
      expect(Object.values(result.rows[0] ?? {})).toEqual(params);
  });

  it("shares one session: an advisory lock held by one connection does not exclude another", async () => {
    const [a, b] = [clients[0] ?? (await connect()), clients[1] ?? (await connect())];
    await a.query("SELECT pg_advisory_lock(1)");
    const { rows } = await b.query("SELECT pg_try_advisory_lock(1) AS locked");
    expect(rows[0].locked).toBe(true);
    await a.query("SELECT pg_advisory_unlock_all()");
  });

  it(`accepts ${PGLITE_SOCKET_MAX_CONNECTIONS} connections and cuts off the next`, async () => {
    // Prisma's pool holds one; this test file's clients hold the others.
    while (clients.length < PGLITE_SOCKET_MAX_CONNECTIONS - 1) {
      await connect();
    }
    await expect(connect()).rejects.toThrow();
  });
});
