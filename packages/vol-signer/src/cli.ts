#!/usr/bin/env -S npx tsx
import { readFile, writeFile } from "node:fs/promises";

import { Command, CommanderError } from "commander";
import pino from "pino";
import { createPublicClient, createWalletClient, defineChain, http, parseUnits } from "viem";
import { privateKeyToAccount } from "viem/accounts";

import { type BuildPostResult, type OracleContext, buildPost } from "./buildPost.js";
import { postSigned, readOracleContext } from "./chain.js";
import { resolveSigningTarget } from "./deployment.js";
import { ExitCode, VolSignerError } from "./errors.js";
import { loadKey } from "./keys.js";
import { type SignedPayload, mergePayloads, parsePayload, payloadToJson } from "./payload.js";
import { readQuotesFile } from "./quotes.js";
import { signPayload } from "./sign.js";

const TIMEOUT_MS = 10_000;
const logger = pino({ name: "pledge-vol-signer" });

interface FitFlags {
  now?: string;
  confidence: string;
  keepConfidence?: boolean;
  landingLatency: string;
  maxRmse: string;
  fit: string;
}
interface ChainFlags {
  rpc?: string;
  oracle?: string;
  chainId?: string;
  deployment?: string;
}

const usage = (message: string): never => {
  throw new VolSignerError(ExitCode.USAGE, message);
};

function client(rpc: string) {
  let url: URL | undefined;
  try {
    url = new URL(rpc);
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== "http:" && url.protocol !== "https:"))
    usage(`--rpc ${rpc} is not an http(s) URL`);
  return http(rpc, { retryCount: 0, timeout: TIMEOUT_MS });
}

function fitOptions(flags: FitFlags, now: bigint, oracle?: OracleContext) {
  if (!/^\d+(\.\d+)?$/.test(flags.confidence)) usage(`--confidence ${flags.confidence} is not a number in [0, 1]`);
  const confidenceWad = parseUnits(flags.confidence, 18);
  if (confidenceWad > 10n ** 18n) usage(`--confidence ${flags.confidence} is above 1`);
  const maxRmseVol = Number(flags.maxRmse) / 100;
  if (!(maxRmseVol > 0)) usage(`--max-rmse ${flags.maxRmse} is not a positive number of vol points`);
  if (!/^\d{1,7}$/.test(flags.landingLatency))
    usage(`--landing-latency ${flags.landingLatency} is not a whole number of seconds`);
  const fitMode = flags.fit as "auto" | "joint" | "per-expiry";
  if (fitMode !== "auto" && fitMode !== "joint" && fitMode !== "per-expiry")
    usage(`--fit ${flags.fit} is not auto, joint or per-expiry`);
  return {
    fit: fitMode,
    nowSeconds: now,
    confidenceWad,
    keepConfidence: flags.keepConfidence === true,
    landingLatencySeconds: BigInt(flags.landingLatency),
    maxRmseVol,
    ...(oracle === undefined ? {} : { oracle }),
  };
}

function parseNow(text: string | undefined): bigint | undefined {
  if (text === undefined) return undefined;
  if (!/^\d{1,12}$/.test(text)) usage(`--now ${text} is not unix seconds`);
  return BigInt(text);
}

const isoOf = (seconds: bigint) => new Date(Number(seconds) * 1000).toISOString();
const decimal = (wad: bigint) => String(Number(wad) / 1e18);

function report(result: BuildPostResult) {
  logger.info({ fit: result.fitMode, expiries: result.fits.length }, "term structure");
  if (result.unquoted.length > 0) {
    logger.warn(
      { unquoted: result.unquoted.map(isoOf) },
      "live expiries on chain not in the quotes: they stay in force unchanged as calendar neighbours; quote them to move the whole surface",
    );
  }
  if (result.shape !== undefined) {
    const { held, levelsKept, excessMiss, inForce, fitted } = result.shape;
    logger.info(
      {
        shapeHeld: held,
        levelsKept,
        excessMiss: Number(excessMiss.toPrecision(3)),
        inForce: { rho: inForce.rho, eta: inForce.eta, gamma: inForce.gamma },
        fitted: { rho: fitted.rho, eta: fitted.eta, gamma: fitted.gamma },
      },
      held
        ? "shape in force kept: the quotes' shape has not moved beyond their noise; levels refitted within a dead band"
        : "shape refitted: the quotes' shape moved",
    );
  }
  for (const d of result.dropped) logger.warn({ expiry: isoOf(d.expiry), reason: d.reason }, "expiry left out");
  for (const f of result.fits) {
    if (f.change?.lowered) {
      logger.warn(
        {
          expiry: isoOf(f.expiry),
          confidence: decimal(f.confidenceWad),
          elapsedSeconds: Number(f.change.elapsed),
          allowedRatio: decimal(f.change.allowedRatioWad),
        },
        "confidence lowered: the move exceeds the oracle's bound at the requested confidence",
      );
    }
    logger.info(
      {
        expiry: isoOf(f.expiry),
        confidence: decimal(f.confidenceWad),
        ...(f.change === undefined
          ? {}
          : {
              carriedConfidence: decimal(f.change.carriedConfidenceWad),
              elapsedSeconds: Number(f.change.elapsed),
              allowedRatio: decimal(f.change.allowedRatioWad),
            }),
        quotes: f.quotes,
        skippedNoBid: f.skipped,
        rmseVolPoints: +(f.rmseVol * 100).toFixed(3),
        maxErrorVolPoints: +(f.maxErrorVol * 100).toFixed(3),
        outsideSpread: f.outsideSpread,
        svi: Object.fromEntries(Object.entries(f.params).map(([k, v]) => [k, String(v)])),
      },
      "fitted",
    );
  }
}

async function fit(file: string, flags: FitFlags) {
  const quotes = await readQuotesFile(file);
  const now = parseNow(flags.now) ?? BigInt(Math.floor(Date.now() / 1000));
  report(buildPost(quotes, fitOptions(flags, now)));
}

async function sign(
  file: string,
  flags: FitFlags & ChainFlags & { keyEnv?: string; keystore?: string; out?: string; post?: boolean },
) {
  if (flags.out === undefined && !flags.post) usage("give --out <payload.json>, --post, or both");
  if (flags.post && flags.rpc === undefined) usage("--post needs --rpc");
  const quotes = await readQuotesFile(file);
  const { oracle, chainId: configured } = await resolveSigningTarget(flags);
  const account = privateKeyToAccount(await loadKey(flags));
  let chainId = configured;
  let now = parseNow(flags.now);
  let context: OracleContext | undefined;
  let publicClient;
  if (flags.rpc !== undefined) {
    publicClient = createPublicClient({ transport: client(flags.rpc) });
    try {
      const actual = await publicClient.getChainId();
      if (chainId !== undefined && actual !== chainId)
        throw new VolSignerError(ExitCode.CHAIN, `--rpc is on chain ${actual}, the oracle on ${chainId}`);
      chainId = actual;
    } catch (error) {
      if (error instanceof VolSignerError) throw error;
      throw new VolSignerError(
        ExitCode.CHAIN,
        `--rpc ${new URL(flags.rpc).origin} does not answer (${(error as { shortMessage?: string }).shortMessage ?? (error as Error).message})`,
      );
    }
    context = await readOracleContext(publicClient, { oracle, underlying: quotes[0]!.underlying });
    // The chain's time: the post is then stored at exactly its signed timestamp.
    now ??= context.blockTimestamp;
  }
  if (chainId === undefined) return usage("give --chain-id, --rpc or a --deployment with chainId");
  now ??= BigInt(Math.floor(Date.now() / 1000));
  const built = buildPost(quotes, fitOptions(flags, now, context));
  report(built);
  // One post for every expiry (rv17d S1: the oracle holds at most 64 live ones, all in one post).
  const payload = await signPayload(account, { chainId, oracle, post: built.post });
  if (flags.out !== undefined) {
    await writeFile(flags.out, payloadToJson(payload));
    logger.info(
      { out: flags.out, signer: account.address, expiries: built.post.surfaces.length },
      "signed payload written",
    );
  }
  if (flags.post) await send(flags.rpc!, [{ file: "(this signer)", payload }], account);
}

async function send(
  rpc: string,
  payloads: { file: string; payload: SignedPayload }[],
  account: ReturnType<typeof privateKeyToAccount>,
) {
  const merged = await mergePayloads(payloads);
  const transport = client(rpc);
  const chain = defineChain({
    id: merged.chainId,
    name: `pledge-${merged.chainId}`,
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: [rpc] } },
  });
  const publicClient = createPublicClient({ chain, transport });
  let actual: number;
  try {
    actual = await publicClient.getChainId();
  } catch (error) {
    throw new VolSignerError(
      ExitCode.CHAIN,
      `--rpc ${new URL(rpc).origin} does not answer (${(error as { shortMessage?: string }).shortMessage ?? (error as Error).message})`,
    );
  }
  if (actual !== merged.chainId)
    throw new VolSignerError(
      ExitCode.CHAIN,
      `--rpc is on chain ${actual}; the payloads are signed for chain ${merged.chainId}`,
    );
  const walletClient = createWalletClient({ chain, transport, account });
  const { hash, gasUsed } = await postSigned(publicClient, walletClient, {
    oracle: merged.oracle,
    signed: merged.signed,
    signers: merged.signers,
  });
  logger.info(
    { hash, gasUsed: String(gasUsed), signers: merged.signers, expiries: merged.signed.post.surfaces.length },
    "posted",
  );
}

async function post(files: string[], flags: { rpc: string; keyEnv?: string; keystore?: string }) {
  const payloads = [];
  for (const file of files) {
    let text: string;
    try {
      text = await readFile(file, "utf8");
    } catch (error) {
      throw new VolSignerError(ExitCode.INPUT, `${file}: cannot read it (${(error as NodeJS.ErrnoException).code})`);
    }
    payloads.push({ file, payload: parsePayload(text, file) });
  }
  const account = privateKeyToAccount(await loadKey(flags));
  await send(flags.rpc, payloads, account);
}

const fitFlags = (command: Command) =>
  command
    .option(
      "--now <unix>",
      "the post's time; T is measured from it (default: the chain's latest block with --rpc, else the clock)",
    )
    .option(
      "--confidence <c>",
      "confidence of every surface, in [0, 1] (1e-9 steps, rounded down); an update that moves further than the oracle allows at c over the time since the surface in force is signed at the highest confidence that admits it",
      "1",
    )
    .option("--keep-confidence", "refuse such an update instead of lowering its confidence")
    .option(
      "--landing-latency <seconds>",
      "leave out expiries that expire within this many seconds of the post's time (or the chain's, if later)",
      "300",
    )
    .option("--max-rmse <points>", "refuse an expiry whose fit misses the quotes by more vol points RMS", "5")
    .option(
      "--fit <mode>",
      "joint (SSVI across the expiries: the shape moves smoothly with T, as the oracle's calendar check needs), per-expiry, or auto: joint when two expiries are less than 7 days apart",
      "auto",
    );
const keyFlags = (command: Command) =>
  command
    .option("--key-env <VAR>", "environment variable holding the private key")
    .option("--keystore <file>", "encrypted JSON keystore (password in PLEDGE_KEYSTORE_PASSWORD)");

const program = new Command("pledge-vol-signer")
  .description(
    "Pledge vol-surface signer: fit raw SVI to option quotes, check, sign, post (packages/vol-signer/README.md).",
  )
  .exitOverride()
  .configureOutput({ outputError: () => {} });
fitFlags(
  program
    .command("fit")
    .description("fit and check the quotes; print the smiles; sign nothing")
    .argument("<quotes>", "CSV or .json quote file"),
).action(fit);
keyFlags(
  fitFlags(
    program
      .command("sign")
      .description("fit, check against the oracle (with --rpc), sign; write the payload and/or post it")
      .argument("<quotes>", "CSV or .json quote file")
      .option("--deployment <file>", "address book: chainId and the oracle, contracts.VolSurfaceOracle (the default)")
      .option("--oracle <address>", "a VolSurfaceOracle other than the deployment's (overrides it)")
      .option("--chain-id <id>", "chain to sign for (default: --rpc's, or the deployment's)")
      .option("--rpc <url>", "JSON-RPC URL: check calendar and change against the surfaces in force")
      .option("--out <file>", "write the signed payload here, for `post`")
      .option("--post", "post at once (the quorum must be 1)"),
  ),
).action(sign);
keyFlags(
  program
    .command("post")
    .description("merge signed payloads of one post to a quorum and post it")
    .argument("<payloads...>", "payload files written by `sign --out`")
    .requiredOption("--rpc <url>", "(required) JSON-RPC URL"),
).action(post);

/** Prints `error` as one line on stderr and exits with its code: never a stack trace. */
function fail(error: unknown): never {
  const oneLine = (text: string) =>
    text
      .replace(/^error: /, "")
      .replace(/\s*\n\s*/g, " ")
      .trim();
  if (error instanceof CommanderError) {
    if (error.exitCode === 0) process.exit(0); // --help
    process.stderr.write(`error: ${oneLine(error.message)}\n`);
    process.exit(ExitCode.USAGE);
  }
  if (error instanceof VolSignerError) {
    process.stderr.write(`error: ${oneLine(error.message)}\n`);
    process.exit(error.exitCode);
  }
  const message =
    error instanceof Error ? ((error as { shortMessage?: string }).shortMessage ?? error.message) : String(error);
  process.stderr.write(`error: ${oneLine(message)}\n`);
  process.exit(ExitCode.UNEXPECTED);
}

await program.parseAsync(process.argv).catch(fail);
