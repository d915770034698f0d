// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title IVolSurfaceOracle
/// @notice The narrow volatility-surface interface the engine reads: per (underlying, expiry) a
/// raw-SVI smile in log-moneyness k = ln(K/S), with the time it was signed and a confidence in
/// [0, 1]. Surfaces are posted by anyone with an EIP-712 message signed by a quorum of
/// whitelisted signers, and checked at posting (docs/vol-surface.md). All values are WAD.
interface IVolSurfaceOracle {
    /// @notice One expiry's smile in a post, as signed (EIP-712 type `Surface`).
    struct SurfaceInput {
        uint256 expiry;
        int256 a;
        int256 b;
        int256 rho;
        int256 m;
        int256 sigma;
        uint256 confidence;
    }

    /// @notice A signed post (EIP-712 primary type `SurfacePost`): one underlying, one signing
    /// time, one or more expiries.
    struct SurfacePost {
        address underlying;
        uint256 timestamp;
        SurfaceInput[] surfaces;
    }

    /// @notice A stored surface, as read.
    /// @dev The engine reads a decoded `Surface` in memory by word, in this field order
    /// (`MarginValuation._SURFACE_*`, `_smileVariance`): reordering the fields moves those offsets
    /// (`test/unit/engine/Rv47SurfaceInPlace.t.sol` catches it).
    struct Surface {
        int256 a;
        int256 b;
        int256 rho;
        int256 m;
        int256 sigma;
        uint256 timestamp;
        uint256 confidenceWad;
        /// @dev The block time from which the surface marks (`markVol`'s `mature`): its first post's
        /// landing block + `CHANGE_PERIOD`, rounded up to `MATURITY_STEP`; once that had passed by a
        /// later post's timestamp, that timestamp rounded down to the step (earlier, equally passed).
        uint256 maturesAt;
        /// @dev Whether `block.timestamp` ≥ `maturesAt`: the surface may mark (docs/vol-surface.md).
        bool mature;
    }

    /// @notice The underlying is not listed.
    error VolSurfaceUnknownUnderlying(address underlying);
    /// @notice The expiry is not 08:00 UTC of a day, is not in the future, or is beyond the
    /// market's horizon (the series grid, `SeriesLib.onExpiryGrid`).
    error VolSurfaceExpiryNotOnGrid(uint256 expiry);
    /// @notice A post with no surface, or with more than `MAX_BATCH`.
    error VolSurfaceInvalidBatchSize(uint256 size);
    /// @notice The post's timestamp is after the block's: signers sign a few seconds in the past.
    error VolSurfaceFutureTimestamp(uint256 timestamp, uint256 blockTimestamp);
    /// @notice The post was signed more than `MAX_POST_AGE` ago.
    error VolSurfaceStaleTimestamp(uint256 timestamp, uint256 blockTimestamp);
    /// @notice The post would leave more than `max` (`MAX_BATCH`) live expiries (posted, unexpired)
    /// for the underlying: the whole live term structure must fit one post (rv17d S1). Post fewer
    /// expiries, or wait until one expires.
    error VolSurfaceTooManyExpiries(uint256 count, uint256 max);
    /// @notice The post is not newer than the surface in force for `expiry` (replay or reorder).
    error VolSurfaceNotNewer(uint256 expiry, uint256 timestamp, uint256 storedTimestamp);
    /// @notice Confidence above 1e18.
    error VolSurfaceInvalidConfidence(uint256 confidence);
    /// @notice A parameter is not on its stored precision: a, b, ρ, m, σ must be multiples of
    /// `PARAM_QUANTUM` (1e8 wei) and the confidence of `CONFIDENCE_QUANTUM` (1e9 wei).
    error VolSurfaceParameterNotQuantized(uint256 expiry);
    /// @notice Signature `index` is malformed or does not recover.
    error VolSurfaceInvalidSignature(uint256 index);
    /// @notice Signature `index` recovers to an address not above the previous one: signers must
    /// be strictly increasing, which also rules out a signer counted twice.
    error VolSurfaceSignersNotSorted(uint256 index);
    /// @notice A signature recovers to an address that is not a whitelisted signer.
    error VolSurfaceSignerNotAuthorized(address signer);
    /// @notice Fewer valid signatures than the quorum.
    error VolSurfaceQuorumNotMet(uint256 signatures, uint256 quorum);
    /// @notice No surface posted for (underlying, expiry).
    error VolSurfaceNotPosted(address underlying, uint256 expiry);
    /// @notice A vol read at or after expiry.
    error VolSurfaceExpired(uint256 expiry);
    /// @notice A signer change that is a no-op, the zero address, or beyond `MAX_SIGNERS`.
    error VolSurfaceInvalidSigner(address signer);
    /// @notice A quorum of 0, above the signer count, or a removal that would leave fewer signers
    /// than the quorum.
    error VolSurfaceInvalidQuorum(uint256 quorum, uint256 signerCount);
    /// @notice A change-ratio outside [`MIN_CHANGE_RATIO`, `MAX_CHANGE_RATIO`].
    error VolSurfaceInvalidChangeRatio(uint256 ratioWad);
    /// @notice A zero admin or underlying.
    error VolSurfaceInvalidConfig();

    /// @notice A surface was posted (and is now in force) with the signed `timestamp` (never after
    /// the block); `surface.confidence` is as signed (the stored one is carried forward, read it
    /// with `surface`).
    event SurfacePosted(address indexed underlying, uint256 indexed expiry, uint256 timestamp, SurfaceInput surface);
    /// @notice A batch member whose expiry passed while the post was in flight (signed before it,
    /// landed at or after it) was skipped; the other members were applied.
    event SurfaceExpiredInFlight(address indexed underlying, uint256 indexed expiry);
    /// @notice `signer` was added to (true) or removed from (false) the whitelist.
    event SignerSet(address indexed signer, bool authorized);
    /// @notice The quorum changed.
    event QuorumSet(uint256 quorum);
    /// @notice `underlying` was listed (true) or delisted (false).
    event UnderlyingSet(address indexed underlying, bool listed);
    /// @notice The bounded-change ratio changed.
    event ChangeRatioSet(uint256 ratioWad);

    /// @notice The surface in force for (`underlying`, `expiry`).
    /// @dev Reverts `VolSurfaceNotPosted` if none was posted. Staleness is the reader's policy:
    /// `timestamp` is when the signers signed it, never after the block it landed in;
    /// `confidenceWad` is the carried confidence (docs/vol-surface.md).
    function surface(address underlying, uint256 expiry) external view returns (Surface memory);

    /// @notice The implied volatility of `strikeWad` at `spotWad` for (`underlying`, `expiry`) as
    /// posted: √(w(k)/τ), k = ln(strike/spot), τ = expiry − the surface's timestamp in years of 365
    /// days (the annualisation of the change rule); WAD, rounded down. It does not drift between
    /// posts: a reader prices with it over its own time to expiry, expiry − now.
    /// @return volWad The volatility.
    /// @return timestamp When the surface was signed, never after the block it landed in (nor
    /// after `block.timestamp`).
    /// @return confidenceWad The surface's carried confidence in [0, 1e18].
    function volAt(
        address underlying,
        uint256 expiry,
        uint256 spotWad,
        uint256 strikeWad
    ) external view returns (uint256 volWad, uint256 timestamp, uint256 confidenceWad);

    /// @notice The vol the engine marks with for (`underlying`, `expiry`) at `spotWad`/`strikeWad`: as
    /// `volAt`, but it never reverts for a missing surface. For an unlisted underlying, an expiry
    /// never posted, or one at/after expiry it returns all zeros. `mature` is true once the expiry's
    /// surface has been in force for `CHANGE_PERIOD` since its first post.
    /// @dev "In force since its first post" counts from the block the first post landed in, not its signed timestamp
    /// (a post may be signed up to `MAX_POST_AGE` earlier), rounded up to `MATURITY_STEP` (2 min): `mature` is
    /// `block.timestamp` ≥ `surface().maturesAt`. Wall clock, not posts: a surface never updated matures too (its
    /// staleness is the reader's policy, from `timestamp`). Reverts only as `volAt` does on spot or strike out of
    /// `SviMath`'s domain.
    function markVol(
        address underlying,
        uint256 expiry,
        uint256 spotWad,
        uint256 strikeWad
    ) external view returns (uint256 volWad, uint256 timestamp, uint256 confidenceWad, bool mature);

    /// @notice The surface the engine marks with for (`underlying`, `expiry`), as `surface` reads it, in one call per
    /// check: the engine evaluates the smile itself (`markVol`'s vol is `SviMath.vol` of these parameters over
    /// expiry − `timestamp`). Never reverts: an unlisted underlying, an expiry never posted, or one at/after expiry
    /// read all zeros (`timestamp` 0, `mature` false), as in `markVol`.
    function markSurface(address underlying, uint256 expiry) external view returns (Surface memory);

    /// @notice The nearest posted, unexpired expiries strictly before and after `expiry` for
    /// `underlying` (0 when none): the calendar check's neighbours.
    function neighbours(address underlying, uint256 expiry) external view returns (uint256 previous, uint256 next);

    /// @notice The posted, unexpired expiries of `underlying`, ascending: at most `MAX_BATCH`, so
    /// one post can carry them all.
    function liveExpiries(address underlying) external view returns (uint256[] memory);

    /// @notice How many posted, unexpired expiries `underlying` has (the length of `liveExpiries`).
    function liveExpiryCount(address underlying) external view returns (uint256);

    /// @notice Post one or more expiries of one underlying, signed by a quorum.
    /// @dev `signatures` are 65-byte ECDSA signatures of `postDigest(post)` whose signers are
    /// strictly increasing. Every surface is checked (grid, confidence, admissibility, newer than
    /// the one in force, bounded change at every k), then the live-expiry cap (`MAX_BATCH`) if
    /// the post adds an expiry, and then every posted expiry against its
    /// neighbours (calendar at every k). Any failure reverts the whole post with a specific error.
    function post(SurfacePost calldata post, bytes[] calldata signatures) external;

    /// @notice The EIP-712 digest the signers sign for `post` (this contract's domain).
    function postDigest(SurfacePost calldata post) external view returns (bytes32);

    /// @notice Whether `account` is a whitelisted signer.
    function isSigner(address account) external view returns (bool);

    /// @notice Number of whitelisted signers.
    function signerCount() external view returns (uint256);

    /// @notice Signatures a post needs.
    function quorum() external view returns (uint256);

    /// @notice Whether `underlying` is listed.
    function isListed(address underlying) external view returns (bool);

    /// @notice The governed change ratio: per hour of credit, total variance plus a floor may move
    /// by this factor at every k at full confidence, up to 4× it at confidence ≤ 0.25
    /// (docs/vol-surface.md, "Bounded change"); WAD.
    function changeRatioWad() external view returns (uint256);
}
