import { db } from "ponder:api";
import schema from "ponder:schema";
import { Hono } from "hono";
import { client, graphql } from "ponder";

/**
 * The indexer's HTTP API (Ponder serves it on `--port`, 42069 by default): GraphQL at `/graphql`
 * (and `/`), SQL over HTTP at `/sql/*` for `@ponder/client`; Ponder adds `/health`, `/ready`,
 * `/status` and `/metrics`.
 */
const app = new Hono();
app.use("/sql/*", client({ db, schema }));
app.use("/", graphql({ db, schema }));
app.use("/graphql", graphql({ db, schema }));

export default app;
