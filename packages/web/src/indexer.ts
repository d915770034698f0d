/** A GraphQL query to the indexer's API (`docs/indexer.md`); its `data`, or an error naming the API. */
export async function indexerQuery<T>(indexerUrl: string, query: string): Promise<T> {
  const response = await fetch(`${indexerUrl}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ query }),
    signal: AbortSignal.timeout(10_000),
  });
  if (!response.ok) throw new Error(`The indexer answered HTTP ${response.status}.`);
  const body = (await response.json()) as { data?: T; errors?: { message: string }[] };
  if (body.errors?.length || !body.data) throw new Error(`The indexer refused the query: ${body.errors?.[0]?.message}`);
  return body.data;
}

/** A row of the indexer: integers as decimal strings. */
export type Row = Record<string, string | number | boolean | null>;
