import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

import { network } from "hardhat";
import { privateKeyToAccount } from "viem/accounts";

import { getVolSurface } from "../../packages/sdk/src/index.js";
import { ExitCode, parsePayload } from "../../packages/vol-signer/src/index.js";
import { NOW, WAD, WETH, addressBookJson, expiryIn, num, sviQuotes, wad } from "./helpers.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const CLI = path.join(ROOT, "packages/vol-signer/src/cli.ts");
const execute = promisify(execFile);
const lines = (text: string) => text.split("\n").filter((line) => line.trim() !== "");

/** `pledge-vol-signer …` as a child process: its exit code, stdout and stderr lines. */
async function signerCli(args: string[], env: Record<string, string> = {}) {
  try {
    const { stdout, stderr } = await execute(process.execPath, ["--import", "tsx", CLI, ...args], {
      cwd: ROOT,
      timeout: 60_000,
      env: { ...process.env, ...env },
    });
    return { code: 0, stdout: lines(stdout), stderr: lines(stderr) };
  } catch (error) {
    const failure = error as { code?: number; stdout: string; stderr: string };
    return { code: failure.code ?? -1, stdout: lines(failure.stdout), stderr: lines(failure.stderr) };
  }
}

/** One refusal: exit `code`, exactly one line on stderr matching `pattern`, no stack trace. */
function assertRefused(result: Awaited<ReturnType<typeof signerCli>>, code: number, pattern: RegExp) {
  assert.equal(result.code, code, `expected exit code ${code}, got ${result.code}: ${result.stderr.join(" | ")}`);
  assert.equal(result.stderr.length, 1, `expected one line, got:\n${result.stderr.join("\n")}`);
  assert.match(result.stderr[0]!, /^error: /);
  assert.doesNotMatch(result.stderr[0]!, /\bat .*:\d+:\d+/, "a stack trace");
  assert.match(result.stderr[0]!, pattern);
}

describe("pledge-vol-signer CLI: bad input is one line and a non-zero exit", () => {
  let dir: string;
  const file = async (name: string, text: string) => {
    const at = path.join(dir, name);
    await writeFile(at, text);
    return at;
  };
  const expiry = expiryIn(NOW, 30);
  const truth = { a: wad(0.02), b: wad(0.1), rho: wad(-0.3), m: wad(0.01), sigma: wad(0.2) };
  const header = "underlying,expiry,strike,spot,bid_iv,ask_iv";
  const goodRows = sviQuotes({ truth, now: NOW, expiry, spread: 0.01 }).map(
    (q) =>
      `${WETH},${expiry},${num(q.strikeWad).toFixed(6)},2000,${num(q.bidWad).toFixed(8)},${num(q.askWad).toFixed(8)}`,
  );
  const fit = (quotes: string, ...more: string[]) => signerCli(["fit", quotes, "--now", String(NOW), ...more]);

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "vol-signer-cli-"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("fits a good CSV file: exit 0, one JSON log line per expiry", async () => {
    const result = await fit(await file("good.csv", [header, ...goodRows].join("\n")));
    assert.equal(result.code, 0, result.stderr.join("\n"));
    const logged = result.stdout.map((line) => JSON.parse(line) as { msg: string; rmseVolPoints: number });
    assert.equal(logged.filter((l) => l.msg === "fitted").length, 1);
  });

  it("fits the same quotes as JSON", async () => {
    const quotes = goodRows.map((row) => {
      const [underlying, e, strike, spot, bidIv, askIv] = row.split(",");
      return { underlying, expiry: Number(e), strike, spot: Number(spot), bidIv: Number(bidIv), askIv };
    });
    const result = await fit(await file("good.json", JSON.stringify({ quotes })));
    assert.equal(result.code, 0, result.stderr.join("\n"));
  });

  const cases: [string, string, string, number, RegExp][] = [
    [
      "a row with too few fields",
      "short.csv",
      [header, ...goodRows.slice(0, 3), `${WETH},${expiry},2000`].join("\n"),
      ExitCode.INPUT,
      /short\.csv:5: 3 fields, the header has 6$/,
    ],
    ["an unknown column", "column.csv", `${header},venue\n`, ExitCode.INPUT, /column\.csv:1: unknown column "venue"/],
    [
      "a bid above the ask",
      "crossed.csv",
      [header, `${WETH},${expiry},2000,2000,0.7,0.6`].join("\n"),
      ExitCode.INPUT,
      /crossed\.csv:2: the bid 0\.7 is above the ask 0\.6$/,
    ],
    [
      "an IV typed as a percent",
      "percent.csv",
      [header, `${WETH},${expiry},2000,2000,60,62`].join("\n"),
      ExitCode.INPUT,
      /ask_iv 62 is above 10: IVs are fractions/,
    ],
    [
      "a negative strike",
      "negative.csv",
      [header, `${WETH},${expiry},-2000,2000,0.6,0.62`].join("\n"),
      ExitCode.INPUT,
      /strike "-2000" is not a non-negative decimal/,
    ],
    [
      "a bad expiry",
      "expiry.csv",
      [header, `${WETH},next friday,2000,2000,0.6,0.62`].join("\n"),
      ExitCode.INPUT,
      /expiry "next friday" is neither unix seconds/,
    ],
    [
      "an impossible date (rv17d B1: 2023-11-31 is not rolled over to December)",
      "nov31.csv",
      [header, `${WETH},2023-11-31,2000,2000,0.6,0.62`].join("\n"),
      ExitCode.INPUT,
      /nov31\.csv:2: expiry "2023-11-31" is not a date \(no such day or time\)$/,
    ],
    [
      "a spot beyond the SDK's Black–Scholes domain (rv17d B2)",
      "huge.csv",
      [header, `${WETH},${expiry},2000,20000000000000000000000000,0.6,0.62`].join("\n"),
      ExitCode.INPUT,
      /huge\.csv:2: spot 20000000000000000000000000 is beyond the SDK's Black–Scholes domain \(below 2\*\*120 wei, about 1\.33e\+18\)$/,
    ],
    [
      "a bad underlying",
      "underlying.csv",
      [header, `weth,${expiry},2000,2000,0.6,0.62`].join("\n"),
      ExitCode.INPUT,
      /underlying "weth" is not an address/,
    ],
    [
      "a price quote without a type",
      "type.csv",
      `underlying,expiry,strike,spot,bid_price,ask_price\n${WETH},${expiry},2000,2000,100,110`,
      ExitCode.INPUT,
      /a price quote needs type/,
    ],
    ["broken JSON", "broken.json", "{ quotes: [", ExitCode.INPUT, /broken\.json: not JSON/],
    [
      "JSON with an exponent",
      "exp.json",
      `[{"underlying":"${WETH}","expiry":${expiry},"strike":2000,"spot":2000,"bidIv":1e-7,"askIv":0.6}]`,
      ExitCode.INPUT,
      /bidIv is 1e-7; write it as a plain decimal/,
    ],
    [
      "too few strikes to fit",
      "few.csv",
      [header, ...goodRows.slice(0, 4)].join("\n"),
      ExitCode.REJECTED,
      /4 strikes with a two-sided quote .* at least 5$/,
    ],
  ];
  for (const [what, name, text, code, pattern] of cases) {
    it(`refuses ${what}`, async () => assertRefused(await fit(await file(name, text)), code, pattern));
  }

  it("refuses a file that does not exist", async () => {
    assertRefused(await fit(path.join(dir, "missing.csv")), ExitCode.INPUT, /missing\.csv: cannot read it \(ENOENT\)$/);
  });

  it("sign: refuses without a key, and never takes one on the command line", async () => {
    const quotes = await file("sign.csv", [header, ...goodRows].join("\n"));
    const base = [
      "sign",
      quotes,
      "--now",
      String(NOW),
      "--oracle",
      WETH,
      "--chain-id",
      "31337",
      "--out",
      path.join(dir, "p.json"),
    ];
    assertRefused(await signerCli(base), ExitCode.KEY, /no signing key: give --key-env <VAR> or --keystore <file>$/);
    assertRefused(
      await signerCli([...base, "--key-env", "NO_SUCH_VAR"]),
      ExitCode.KEY,
      /environment variable NO_SUCH_VAR is empty/,
    );
    assertRefused(await signerCli([...base, "--key", `0x${"1".repeat(64)}`]), ExitCode.USAGE, /unknown option '--key'/);
  });

  it("sign: writes a payload that post then refuses without --rpc (usage), and a malformed payload readably", async () => {
    const quotes = await file("sign2.csv", [header, ...goodRows].join("\n"));
    const out = path.join(dir, "signed.json");
    const signed = await signerCli(
      [
        "sign",
        quotes,
        "--now",
        String(NOW),
        "--oracle",
        WETH,
        "--chain-id",
        "31337",
        "--out",
        out,
        "--key-env",
        "SIGNER_KEY",
      ],
      { SIGNER_KEY: "1".repeat(64) },
    );
    assert.equal(signed.code, 0, signed.stderr.join("\n"));
    assertRefused(
      await signerCli(["post", out, "--key-env", "SIGNER_KEY"]),
      ExitCode.USAGE,
      /required option '--rpc <url>' not specified/,
    );
    const bad = await file(
      "bad-payload.json",
      JSON.stringify({ kind: "pledge-vol-surface-post", version: 1, chainId: 31337 }),
    );
    assertRefused(
      await signerCli(["post", bad, "--rpc", "http://127.0.0.1:1", "--key-env", "SIGNER_KEY"], {
        SIGNER_KEY: "1".repeat(64),
      }),
      ExitCode.INPUT,
      /bad-payload\.json: post\.surfaces is missing$/,
    );
  });

  it("sign: 40 daily expiries are fitted jointly and written as one payload; 65 are refused in one line; --fit is checked", async () => {
    const rows: string[] = [];
    const rows65: string[] = [];
    for (let d = 1; d <= 65; d++) {
      const e = expiryIn(NOW, d);
      const T = Number(e - NOW) / (365 * 86400);
      const [rho, theta] = [-0.3, 0.36 * T];
      const phi = 1 / Math.sqrt(theta);
      const smile = {
        a: wad((theta * (1 - rho * rho)) / 2),
        b: wad((theta * phi) / 2),
        rho: wad(rho),
        m: wad(-rho / phi),
        sigma: wad(Math.sqrt(1 - rho * rho) / phi),
      };
      const ks = [-2, -1, -0.5, 0, 0.5, 1, 2].map((z) => z * 0.6 * Math.sqrt(T));
      for (const q of sviQuotes({ truth: smile, now: NOW, expiry: e, ks, spread: 0.01 })) {
        const row = `${WETH},${e},${num(q.strikeWad).toFixed(6)},2000,${num(q.bidWad).toFixed(8)},${num(q.askWad).toFixed(8)}`;
        if (d <= 40) rows.push(row);
        rows65.push(row);
      }
    }
    const quotes = await file("daily.csv", [header, ...rows].join("\n"));
    const quotes65 = await file("daily65.csv", [header, ...rows65].join("\n"));
    const args = [
      "sign",
      quotes,
      "--now",
      String(NOW),
      "--oracle",
      WETH,
      "--chain-id",
      "31337",
      "--key-env",
      "SIGNER_KEY",
    ];
    const env = { SIGNER_KEY: "1".repeat(64) };
    assertRefused(
      await signerCli([...args, "--out", path.join(dir, "x.json"), "--fit", "best"], env),
      ExitCode.USAGE,
      /--fit best is not auto, joint or per-expiry/,
    );
    const signed = await signerCli([...args, "--out", path.join(dir, "daily.json")], env);
    assert.equal(signed.code, 0, signed.stderr.join("\n"));
    const logged = signed.stdout.map((line) => JSON.parse(line) as { msg: string; fit?: string; expiries?: number });
    assert.deepEqual(
      logged.filter((l) => l.msg.startsWith("term structure")).map((l) => [l.fit, l.expiries]),
      [["joint", 40]],
    );
    const text = await readFile(path.join(dir, "daily.json"), "utf8");
    assert.equal(parsePayload(text, "daily.json").post.surfaces.length, 40);
    const refused = await signerCli(
      [...args.slice(0, 1), quotes65, ...args.slice(2), "--out", path.join(dir, "d65.json")],
      env,
    );
    assertRefused(
      refused,
      ExitCode.REJECTED,
      /^error: 65 expiries quoted: the oracle holds at most 64 live expiries per underlying and takes them all in one post \(VolSurfaceInvalidBatchSize\); quote at most 64 .*; nothing signed or posted$/,
    );
  });
});

describe("pledge-vol-signer CLI against a node over HTTP: sign twice, post once", () => {
  let server: Awaited<ReturnType<typeof network.createServer>>;
  let url: string;
  let dir: string;
  const keys = [1, 2, 3].map((i) => `0x${String(i).repeat(64)}` as const);
  const signers = keys.map((k) => privateKeyToAccount(k));
  const chainId = 700_000 + ((process.pid + 45_000) % 90_000);

  before(async () => {
    server = await network.createServer({ network: "node", override: { chainId } }, "127.0.0.1");
    const { port } = await server.listen();
    url = `http://127.0.0.1:${port}`;
    dir = await mkdtemp(path.join(tmpdir(), "vol-signer-e2e-"));
  });
  after(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("two signers' payloads, merged and posted by a third key, put the fitted smiles on chain", async () => {
    const { viem, networkHelpers } = await network.create({ network: "localhost", override: { url } });
    const publicClient = await viem.getPublicClient();
    const [admin] = await viem.getWalletClients();
    const oracle = await viem.deployContract("VolSurfaceOracle", [
      admin!.account.address,
      signers.map((s) => s.address),
      2n,
      4n * WAD,
    ]);
    await oracle.write.setUnderlying([WETH, true]);
    const deployment = path.join(dir, "deployment.json");
    await writeFile(deployment, addressBookJson(chainId, oracle.address));
    const now = BigInt(await networkHelpers.time.latest());

    // Quotes no admissible smile fits (wings steeper than Lee's bound): one line, exit 4, no transaction.
    const steepExpiry = expiryIn(now, 30);
    const T = Number(steepExpiry - now) / (365 * 86_400);
    const steepRows = [-1.2, -0.9, -0.6, -0.4, -0.2, 0, 0.2, 0.4, 0.6, 0.9, 1.2].map((k) => {
      const vol = Math.sqrt((0.01 + 3 * Math.abs(k)) / T);
      return `${WETH},${steepExpiry},${(2000 * Math.exp(k)).toFixed(6)},2000,${(vol - 0.005).toFixed(8)},${(vol + 0.005).toFixed(8)}`;
    });
    const steep = path.join(dir, "steep.csv");
    await writeFile(steep, ["underlying,expiry,strike,spot,bid_iv,ask_iv", ...steepRows].join("\n"));
    const unfittable = await signerCli(
      ["sign", steep, "--deployment", deployment, "--rpc", url, "--post", "--key-env", "SIGNER_KEY"],
      { SIGNER_KEY: keys[0]! },
    );
    assertRefused(unfittable, ExitCode.REJECTED, /misses the quotes by .* vol RMS .* nothing posted$/);
    assert.equal(await publicClient.getTransactionCount({ address: signers[0]!.address }), 0);
    assert.deepEqual(
      await publicClient
        .getContractEvents({ address: oracle.address, abi: oracle.abi, fromBlock: 0n })
        .then((logs) => logs.filter((l) => l.eventName === "SurfacePosted")),
      [],
    );

    const truth = { a: wad(0.02), b: wad(0.1), rho: wad(-0.3), m: wad(0.01), sigma: wad(0.2) };
    const rows = [14, 45].flatMap((days) => {
      const expiry = expiryIn(now, days);
      // Total variance grows with the expiry (no calendar arbitrage): a and b in proportion.
      const scaled = { ...truth, a: (truth.a * BigInt(days)) / 30n, b: (truth.b * BigInt(days)) / 30n };
      return sviQuotes({ truth: scaled, now, expiry, spread: 0.01 }).map(
        (q) =>
          `${WETH},${expiry},${num(q.strikeWad).toFixed(6)},2000,${num(q.bidWad).toFixed(8)},${num(q.askWad).toFixed(8)}`,
      );
    });
    const quotes = path.join(dir, "quotes.csv");
    await writeFile(quotes, ["underlying,expiry,strike,spot,bid_iv,ask_iv", ...rows].join("\n"));
    const payloads = [0, 1].map((i) => path.join(dir, `signer-${i}.json`));
    for (const i of [0, 1]) {
      const signed = await signerCli(
        [
          "sign",
          quotes,
          "--deployment",
          deployment,
          "--rpc",
          url,
          "--now",
          String(now),
          "--key-env",
          "SIGNER_KEY",
          "--out",
          payloads[i]!,
        ],
        { SIGNER_KEY: keys[i]! },
      );
      assert.equal(signed.code, 0, signed.stderr.join("\n"));
    }
    // The poster's key (Hardhat's default account 1) is no signer: anyone may post.
    const posterKey = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
    const only = await signerCli(["post", payloads[0]!, "--rpc", url, "--key-env", "POSTER_KEY"], {
      POSTER_KEY: posterKey,
    });
    assertRefused(
      only,
      ExitCode.CHAIN,
      /1 signature\(s\); oracle 0x[0-9a-fA-F]{40} needs a quorum of 2: collect more payloads$/,
    );
    const posted = await signerCli(["post", ...payloads, "--rpc", url, "--key-env", "POSTER_KEY"], {
      POSTER_KEY: posterKey,
    });
    assert.equal(posted.code, 0, posted.stderr.join("\n"));
    assert.ok(posted.stdout.some((line) => (JSON.parse(line) as { msg: string }).msg === "posted"));
    const payload = JSON.parse(await (await import("node:fs/promises")).readFile(payloads[0]!, "utf8")) as {
      post: { surfaces: { expiry: string; a: string; b: string; rho: string; m: string; sigma: string }[] };
    };
    for (const s of payload.post.surfaces) {
      const onChain = await getVolSurface(publicClient, {
        oracle: oracle.address,
        underlying: WETH,
        expiry: BigInt(s.expiry),
      });
      assert.deepEqual(onChain.params, {
        a: BigInt(s.a),
        b: BigInt(s.b),
        rho: BigInt(s.rho),
        m: BigInt(s.m),
        sigma: BigInt(s.sigma),
      });
      // a and b were scaled per expiry; the shape (ρ, m, σ) is the truth's.
      for (const key of ["rho", "m", "sigma"] as const)
        assert.ok(Math.abs(num(onChain.params[key]) - num(truth[key])) < 1e-3, key);
    }
    // Replaying the same payloads: the oracle's own error, named, one line.
    const replay = await signerCli(["post", ...payloads, "--rpc", url, "--key-env", "POSTER_KEY"], {
      POSTER_KEY: posterKey,
    });
    assertRefused(replay, ExitCode.CHAIN, /the oracle refuses the post: VolSurfaceNotNewer\(/);
  });
});
