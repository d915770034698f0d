// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {LibBit} from "solady/src/utils/LibBit.sol";

import {IVolSurfaceOracle} from "../interfaces/IVolSurfaceOracle.sol";
import {Roles} from "../libraries/Roles.sol";
import {SeriesLib} from "../libraries/SeriesLib.sol";
import {SviMath} from "../libraries/SviMath.sol";

/// @title VolSurfaceOracle
/// @notice Raw-SVI smiles per (underlying, expiry), posted by anyone with an EIP-712 message
/// signed by a quorum of whitelisted signers and checked on chain at posting (docs/vol-surface.md).
/// @dev No external calls besides the ecrecover precompile, so no reentrancy guard (like
/// `ChainlinkOracle`). A surface is one storage word; a per-underlying bitmap of posted days
/// finds the calendar neighbours in a few word reads.
contract VolSurfaceOracle is IVolSurfaceOracle, AccessControl, EIP712 {
    /// @notice Most signers in the whitelist.
    uint256 public constant MAX_SIGNERS = 16;
    /// @notice Most expiries in one post, and most live (posted, unexpired) expiries per
    /// underlying: so the whole live term structure can always move in one post (rv17d S1).
    uint256 public constant MAX_BATCH = 64;
    /// @notice How old a post's timestamp may be when it lands.
    uint256 public constant MAX_POST_AGE = 1 hours;
    /// @notice Stored precision of a, b, ρ, m and σ: each must be a multiple of 1e8 wei (1e-10).
    uint256 public constant PARAM_QUANTUM = 1e8;
    /// @notice Stored precision of the confidence: a multiple of 1e9 wei (1e-9).
    uint256 public constant CONFIDENCE_QUANTUM = 1e9;
    /// @notice Bounds of `changeRatioWad` (a factor on total variance: 4e18 = vol ×2 or ÷2).
    uint256 public constant MIN_CHANGE_RATIO = 1.1e18;
    uint256 public constant MAX_CHANGE_RATIO = 16e18;
    /// @notice The rounding step of a surface's maturity time (`markVol`'s `mature`): an hour after
    /// its first post landed, rounded up to 2 minutes, so the wait fits 6 bits of steps (rv17b G5).
    uint256 public constant MATURITY_STEP = 2 minutes;

    bytes32 private constant _SURFACE_TYPEHASH = keccak256(
        "Surface(uint256 expiry,int256 a,int256 b,int256 rho,int256 m,int256 sigma,uint256 confidence)"
    );
    bytes32 private constant _POST_TYPEHASH = keccak256(
        "SurfacePost(address underlying,uint256 timestamp,Surface[] surfaces)"
        "Surface(uint256 expiry,int256 a,int256 b,int256 rho,int256 m,int256 sigma,uint256 confidence)"
    );

    /// @dev One surface in one word, each field in units of its quantum (docs/vol-surface.md):
    /// timestamp bits [0, 34), maturity steps [34, 40), confidence [40, 70), a [70, 109) signed, b [109, 144),
    /// ρ [144, 179) signed, m [179, 218) signed, σ [218, 256). Every admissible smile fits: its
    /// parameters are < 2**64 wei (`SviMath`'s range), i.e. < 2**38 quanta; b ≤ 2e18 and |ρ| < 1e18
    /// are < 2**35 and 2**34 quanta; confidence ≤ 1e18 is < 2**30 quanta; timestamps < 2**34 (until
    /// the year 2514); maturity steps ≤ 61 < 2**6 (`_firstMaturitySteps`).
    uint256 private constant _TS_BITS = 34;
    uint256 private constant _TS_MASK = (1 << 34) - 1;
    uint256 private constant _MATURITY_SHIFT = 34;
    uint256 private constant _STEPS_MASK = (1 << 6) - 1;
    uint256 private constant _CONF_SHIFT = 40;
    uint256 private constant _A_SHIFT = 70;
    uint256 private constant _B_SHIFT = 109;
    uint256 private constant _RHO_SHIFT = 144;
    uint256 private constant _M_SHIFT = 179;
    uint256 private constant _SIGMA_SHIFT = 218;

    /// @dev The governed configuration, one word.
    struct Config {
        uint8 signerCount;
        uint8 quorum;
        uint128 changeRatioWad;
    }

    Config private _config;
    mapping(address account => bool) private _signers;
    mapping(address underlying => bool) private _listed;
    mapping(address underlying => mapping(uint256 expiry => uint256 packed)) private _surfaces;
    /// @dev Bit (day & 255) of word (day >> 8) is set once a surface for day `expiry / 1 days` is posted.
    mapping(address underlying => mapping(uint256 word => uint256)) private _postedDays;

    constructor(
        address admin,
        address[] memory signers,
        uint256 quorum_,
        uint256 changeRatioWad_
    ) EIP712("Pledge VolSurfaceOracle", "1") {
        if (admin == address(0)) revert VolSurfaceInvalidConfig();
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        for (uint256 i; i < signers.length; ++i) _setSigner(signers[i], true);
        _setQuorum(quorum_);
        _setChangeRatio(changeRatioWad_);
    }

    // ---------------------------------------------------------------------------------------------
    // Governance
    // ---------------------------------------------------------------------------------------------

    /// @notice Add (`authorized`) or remove a signer. Admin (the timelock) only.
    function setSigner(address signer, bool authorized) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setSigner(signer, authorized);
        Config memory c = _config;
        if (c.signerCount < c.quorum) revert VolSurfaceInvalidQuorum(c.quorum, c.signerCount);
    }

    /// @notice Set the quorum, in [1, signerCount]. Admin (the timelock) only.
    function setQuorum(uint256 quorum_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setQuorum(quorum_);
    }

    /// @notice List or delist an underlying. Admin (the timelock) only.
    function setUnderlying(address underlying, bool listed) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (underlying == address(0)) revert VolSurfaceInvalidConfig();
        _listed[underlying] = listed;
        emit UnderlyingSet(underlying, listed);
    }

    /// @notice Set the bounded-change ratio within its hard bounds. Risk manager only.
    function setChangeRatio(uint256 ratioWad) external onlyRole(Roles.RISK_MANAGER_ROLE) {
        _setChangeRatio(ratioWad);
    }

    function _setSigner(address signer, bool authorized) private {
        Config memory c = _config;
        if (signer == address(0) || _signers[signer] == authorized) revert VolSurfaceInvalidSigner(signer);
        if (authorized) {
            if (c.signerCount >= MAX_SIGNERS) revert VolSurfaceInvalidSigner(signer);
            ++c.signerCount;
        } else {
            --c.signerCount;
        }
        _signers[signer] = authorized;
        _config = c;
        emit SignerSet(signer, authorized);
    }

    function _setQuorum(uint256 quorum_) private {
        Config memory c = _config;
        if (quorum_ == 0 || quorum_ > c.signerCount) revert VolSurfaceInvalidQuorum(quorum_, c.signerCount);
        c.quorum = uint8(quorum_);
        _config = c;
        emit QuorumSet(quorum_);
    }

    function _setChangeRatio(uint256 ratioWad) private {
        if (ratioWad < MIN_CHANGE_RATIO || ratioWad > MAX_CHANGE_RATIO) revert VolSurfaceInvalidChangeRatio(ratioWad);
        _config.changeRatioWad = uint128(ratioWad);
        emit ChangeRatioSet(ratioWad);
    }

    // ---------------------------------------------------------------------------------------------
    // Posting
    // ---------------------------------------------------------------------------------------------

    /// @inheritdoc IVolSurfaceOracle
    function post(SurfacePost calldata post_, bytes[] calldata signatures) external {
        address underlying = post_.underlying;
        uint256 n = post_.surfaces.length;
        uint256 ts = post_.timestamp;
        if (!_listed[underlying]) revert VolSurfaceUnknownUnderlying(underlying);
        if (n == 0 || n > MAX_BATCH) revert VolSurfaceInvalidBatchSize(n);
        // Never after the block (rv17b G4): signers sign a few seconds in the past. A payload signed
        // ahead and stored at the block time could otherwise be replayed in every later block until
        // its signed time, rolling corrections back and freezing honest posts `VolSurfaceNotNewer`.
        if (ts > block.timestamp) revert VolSurfaceFutureTimestamp(ts, block.timestamp);
        if (ts + MAX_POST_AGE < block.timestamp) revert VolSurfaceStaleTimestamp(ts, block.timestamp);
        Config memory c = _config;
        _verifyQuorum(_digest(post_), signatures, c.quorum);

        bool added;
        for (uint256 i; i < n; ++i) {
            uint256 expiry = post_.surfaces[i].expiry;
            // rv17 F4: a member on the grid's time of day that was still in the future when signed
            // but has passed by landing is skipped (read-only after expiry anyway), not fatal to
            // the batch. Anything else off the grid still reverts in `_store`.
            if (_expiredInFlight(expiry, ts)) {
                emit SurfaceExpiredInFlight(underlying, expiry);
                continue;
            }
            if (_store(underlying, post_.surfaces[i], ts, c.changeRatioWad)) added = true;
        }
        // At most MAX_BATCH live expiries, so one post can always carry them all (rv17d S1: a skew
        // move split across posts has a calendar-inverted intermediate state). Only a new expiry
        // can raise the count; expired days drop out of it by themselves.
        if (added) {
            uint256 live = _liveCount(underlying);
            if (live > MAX_BATCH) revert VolSurfaceTooManyExpiries(live, MAX_BATCH);
        }
        // Calendar after every write, against the final neighbours, so the order within a post
        // does not matter; each posted expiry is checked on both sides.
        for (uint256 i; i < n; ++i) {
            uint256 expiry = post_.surfaces[i].expiry;
            // Skipped above: every stored member is after the block.
            if (expiry <= block.timestamp) continue;
            (uint256 previous, uint256 next) = _neighbours(underlying, expiry);
            SurfaceInput calldata s = post_.surfaces[i];
            SviMath.Params memory p = SviMath.Params(s.a, s.b, s.rho, s.m, s.sigma);
            if (previous != 0) SviMath.checkCalendar(_params(underlying, previous), p);
            if (next != 0) SviMath.checkCalendar(p, _params(underlying, next));
        }
    }

    /// @dev Whether `expiry` is 08:00 UTC of a day, after the post timestamp `ts`, and at
    /// or before the block: it expired while the post was in flight.
    function _expiredInFlight(uint256 expiry, uint256 ts) private view returns (bool) {
        return expiry <= block.timestamp && expiry > ts && expiry % 1 days == SeriesLib.EXPIRY_TIME_OF_DAY;
    }

    /// @dev Checks one surface, applies the bounded-change rule, stores it; true for a first post
    /// of the expiry (a new live expiry).
    function _store(
        address underlying,
        SurfaceInput calldata s,
        uint256 ts,
        uint256 ratioWad
    ) private returns (bool first) {
        uint256 expiry = s.expiry;
        if (!SeriesLib.onExpiryGrid(expiry, block.timestamp)) revert VolSurfaceExpiryNotOnGrid(expiry);
        if (s.confidence > 1e18) revert VolSurfaceInvalidConfidence(s.confidence);
        SviMath.Params memory p = SviMath.Params(s.a, s.b, s.rho, s.m, s.sigma);
        SviMath.checkAdmissible(p);
        // Admissible: every parameter < 2**64 wei, b ≥ 0, σ > 0, |ρ| < 1e18; on the quantum, each
        // then fits its field (see the layout above).
        if (!_onQuantum(s)) revert VolSurfaceParameterNotQuantized(expiry);

        uint256 stored = _surfaces[underlying][expiry];
        uint256 storedTs = stored & ((1 << _TS_BITS) - 1);
        if (ts <= storedTs) revert VolSurfaceNotNewer(expiry, ts, storedTs);
        first = storedTs == 0;
        uint256 confidence = first ? s.confidence : _checkChange(stored, p, s.confidence, expiry, ts, ratioWad);
        uint256 steps = first ? _firstMaturitySteps(ts) : _maturityStepsAfter(stored, ts);
        _surfaces[underlying][expiry] = _pack(s, ts, confidence, steps);
        if (first) {
            uint256 day = expiry / 1 days;
            _postedDays[underlying][day >> 8] |= 1 << (day & 255);
        }
        emit SurfacePosted(underlying, expiry, ts, s);
    }

    /// @dev The bounded-change rule against the surface in force `stored` (posted at `storedTs` ≠ 0);
    /// returns the confidence carried forward. Per unit of time: the annualised variance is bounded
    /// by R(c)^(elapsed / period), at the carried confidence (docs/vol-surface.md, "Bounded
    /// change"). Credit starts no earlier than one period before the block (rv17b G2).
    function _checkChange(
        uint256 stored,
        SviMath.Params memory p,
        uint256 postedConfidence,
        uint256 expiry,
        uint256 ts,
        uint256 ratioWad
    ) private view returns (uint256 confidence) {
        (SviMath.Params memory previous, uint256 storedTs, uint256 previousConfidence) = _unpack(stored);
        uint256 elapsed = SviMath.changeElapsed(storedTs, ts, block.timestamp);
        confidence = SviMath.carriedConfidence(previousConfidence, postedConfidence, elapsed);
        uint256 allowed = SviMath.allowedChangeRatioOver(ratioWad, confidence, elapsed);
        // Each smile annualised by its own time to expiry (rv17c H1): expiry > block ≥ ts >
        // storedTs ≥ expiry − 365 days − 1 h, so neither τ is 0 and both are in range.
        SviMath.checkChange(previous, p, allowed, expiry - storedTs, expiry - ts);
    }

    /// @dev The maturity steps of a first post signed at `ts` and landing now: the maturity time is
    /// the block + `CHANGE_PERIOD`, rounded up to a multiple of `MATURITY_STEP`, stored as steps from
    /// ts's step. Landing, not signing (rv17b G5): a post signed up to `MAX_POST_AGE` earlier must
    /// still stand an hour on chain before it marks. block ≤ ts + 1 h, so at most 61 steps.
    function _firstMaturitySteps(uint256 ts) private view returns (uint256) {
        // Unchecked: block.timestamp < 2**34 (the layout) cannot overflow, and ts ≤ block keeps the
        // difference ≥ 0.
        unchecked {
            return (block.timestamp + (SviMath.CHANGE_PERIOD + MATURITY_STEP - 1)) / MATURITY_STEP - ts / MATURITY_STEP;
        }
    }

    /// @dev The maturity steps of an update signed at `ts` over the surface in force `stored`: the
    /// same maturity time, counted from ts's step, or 0 once ts's step has reached it (`_maturesAt`
    /// then reads ts's step, as passed as before). A re-post never moves maturity later or earlier
    /// while it is pending: the time is a multiple of the step, so it is kept exactly.
    function _maturityStepsAfter(uint256 stored, uint256 ts) private pure returns (uint256) {
        // Unchecked: both fields are < 2**34, and the difference is taken only when positive.
        unchecked {
            uint256 at = (stored & _TS_MASK) / MATURITY_STEP + ((stored >> _MATURITY_SHIFT) & _STEPS_MASK);
            uint256 tsStep = ts / MATURITY_STEP;
            return at > tsStep ? at - tsStep : 0;
        }
    }

    /// @dev The block time from which the stored surface marks: its timestamp's step plus its
    /// maturity steps, in seconds.
    function _maturesAt(uint256 word) private pure returns (uint256) {
        // Unchecked: (2**34 + 63) · 120 is far from overflow.
        unchecked {
            return ((word & _TS_MASK) / MATURITY_STEP + ((word >> _MATURITY_SHIFT) & _STEPS_MASK)) * MATURITY_STEP;
        }
    }

    /// @dev Reverts unless `signatures` hold at least `quorum_` valid signatures of `digest` by
    /// whitelisted signers in strictly increasing address order.
    function _verifyQuorum(bytes32 digest, bytes[] calldata signatures, uint256 quorum_) private view {
        uint256 count = signatures.length;
        if (count < quorum_) revert VolSurfaceQuorumNotMet(count, quorum_);
        address last;
        for (uint256 i; i < count; ++i) {
            (address signer, ECDSA.RecoverError err, ) = ECDSA.tryRecoverCalldata(digest, signatures[i]);
            if (err != ECDSA.RecoverError.NoError) revert VolSurfaceInvalidSignature(i);
            if (signer <= last) revert VolSurfaceSignersNotSorted(i);
            if (!_signers[signer]) revert VolSurfaceSignerNotAuthorized(signer);
            last = signer;
        }
    }

    function _digest(SurfacePost calldata post_) private view returns (bytes32) {
        uint256 n = post_.surfaces.length;
        bytes32[] memory hashes = new bytes32[](n);
        for (uint256 i; i < n; ++i) {
            SurfaceInput calldata s = post_.surfaces[i];
            hashes[i] = keccak256(abi.encode(_SURFACE_TYPEHASH, s.expiry, s.a, s.b, s.rho, s.m, s.sigma, s.confidence));
        }
        return
            _hashTypedDataV4(
                keccak256(
                    abi.encode(_POST_TYPEHASH, post_.underlying, post_.timestamp, keccak256(abi.encodePacked(hashes)))
                )
            );
    }

    // ---------------------------------------------------------------------------------------------
    // Reads
    // ---------------------------------------------------------------------------------------------

    /// @inheritdoc IVolSurfaceOracle
    function surface(address underlying, uint256 expiry) external view returns (Surface memory) {
        uint256 stored = _surfaces[underlying][expiry];
        if (stored == 0) revert VolSurfaceNotPosted(underlying, expiry);
        return _surface(stored);
    }

    /// @inheritdoc IVolSurfaceOracle
    function markSurface(address underlying, uint256 expiry) external view returns (Surface memory r) {
        uint256 stored = _surfaces[underlying][expiry];
        // Missing reads as zeros, never a revert, exactly when `markVol` reads zeros.
        if (stored == 0 || expiry <= block.timestamp || !_listed[underlying]) return r;
        return _surface(stored);
    }

    /// @dev A stored (non-zero) surface word, as read.
    function _surface(uint256 stored) private view returns (Surface memory) {
        (SviMath.Params memory p, uint256 ts, uint256 confidence) = _unpack(stored);
        uint256 maturesAt = _maturesAt(stored);
        return Surface(p.a, p.b, p.rho, p.m, p.sigma, ts, confidence, maturesAt, block.timestamp >= maturesAt);
    }

    /// @inheritdoc IVolSurfaceOracle
    function volAt(
        address underlying,
        uint256 expiry,
        uint256 spotWad,
        uint256 strikeWad
    ) external view returns (uint256 volWad, uint256 timestamp, uint256 confidenceWad) {
        uint256 stored = _surfaces[underlying][expiry];
        if (stored == 0) revert VolSurfaceNotPosted(underlying, expiry);
        if (expiry <= block.timestamp) revert VolSurfaceExpired(expiry);
        return _volAt(stored, expiry, spotWad, strikeWad);
    }

    /// @inheritdoc IVolSurfaceOracle
    function markVol(
        address underlying,
        uint256 expiry,
        uint256 spotWad,
        uint256 strikeWad
    ) external view returns (uint256 volWad, uint256 timestamp, uint256 confidenceWad, bool mature) {
        uint256 stored = _surfaces[underlying][expiry];
        // Missing reads as zeros, never a revert: what a missing surface means is the engine's rule.
        if (stored == 0 || expiry <= block.timestamp || !_listed[underlying]) return (0, 0, 0, false);
        (volWad, timestamp, confidenceWad) = _volAt(stored, expiry, spotWad, strikeWad);
        mature = block.timestamp >= _maturesAt(stored);
    }

    /// @dev `volAt` of a stored, unexpired surface.
    function _volAt(
        uint256 stored,
        uint256 expiry,
        uint256 spotWad,
        uint256 strikeWad
    ) private pure returns (uint256 volWad, uint256 timestamp, uint256 confidenceWad) {
        SviMath.Params memory p;
        (p, timestamp, confidenceWad) = _unpack(stored);
        // The posted annualised vol: w over the time to expiry from the post's timestamp, as the
        // change rule and the signers annualise it (rv17d V1). Divided by expiry − now instead, a
        // read would drift up between posts without bound near expiry. timestamp ≤ the landing
        // block < expiry, so the divisor is ≥ 1 s.
        volWad = SviMath.vol(p, spotWad, strikeWad, expiry - timestamp);
    }

    /// @inheritdoc IVolSurfaceOracle
    function liveExpiries(address underlying) external view returns (uint256[] memory expiries) {
        expiries = new uint256[](_liveCount(underlying));
        mapping(uint256 => uint256) storage days_ = _postedDays[underlying];
        (uint256 firstDay, uint256 lastWord) = _liveDays();
        uint256 i;
        for (uint256 w = firstDay >> 8; w <= lastWord; ++w) {
            uint256 bits = days_[w];
            if (w == firstDay >> 8) bits &= type(uint256).max << (firstDay & 255);
            while (bits != 0) {
                expiries[i++] = ((w << 8) | LibBit.ffs(bits)) * 1 days + SeriesLib.EXPIRY_TIME_OF_DAY;
                bits &= bits - 1;
            }
        }
    }

    /// @inheritdoc IVolSurfaceOracle
    function liveExpiryCount(address underlying) external view returns (uint256) {
        return _liveCount(underlying);
    }

    /// @inheritdoc IVolSurfaceOracle
    function neighbours(address underlying, uint256 expiry) external view returns (uint256, uint256) {
        return _neighbours(underlying, expiry);
    }

    /// @inheritdoc IVolSurfaceOracle
    function postDigest(SurfacePost calldata post_) external view returns (bytes32) {
        return _digest(post_);
    }

    /// @inheritdoc IVolSurfaceOracle
    function isSigner(address account) external view returns (bool) {
        return _signers[account];
    }

    /// @inheritdoc IVolSurfaceOracle
    function signerCount() external view returns (uint256) {
        return _config.signerCount;
    }

    /// @inheritdoc IVolSurfaceOracle
    function quorum() external view returns (uint256) {
        return _config.quorum;
    }

    /// @inheritdoc IVolSurfaceOracle
    function isListed(address underlying) external view returns (bool) {
        return _listed[underlying];
    }

    /// @inheritdoc IVolSurfaceOracle
    function changeRatioWad() external view returns (uint256) {
        return _config.changeRatioWad;
    }

    function _params(address underlying, uint256 expiry) private view returns (SviMath.Params memory p) {
        (p, , ) = _unpack(_surfaces[underlying][expiry]);
    }

    /// @dev Whether a, b, ρ, m, σ are multiples of `PARAM_QUANTUM` and the confidence of
    /// `CONFIDENCE_QUANTUM` (signed `%` keeps the sign, so `!= 0` tests either way).
    function _onQuantum(SurfaceInput calldata s) private pure returns (bool) {
        int256 q = int256(PARAM_QUANTUM);
        return
            s.a % q == 0 &&
            s.b % q == 0 &&
            s.rho % q == 0 &&
            s.m % q == 0 &&
            s.sigma % q == 0 &&
            s.confidence % CONFIDENCE_QUANTUM == 0;
    }

    /// @dev One word (layout above). The caller has checked admissibility, the quanta, confidence
    /// ≤ 1e18 and ts ≤ now, and steps ≤ 61, so every field fits; masks keep a negative field's sign
    /// bits out of its neighbours.
    function _pack(
        SurfaceInput calldata s,
        uint256 ts,
        uint256 confidence,
        uint256 steps
    ) private pure returns (uint256 word) {
        int256 q = int256(PARAM_QUANTUM);
        word =
            ts |
            (steps << _MATURITY_SHIFT) |
            ((confidence / CONFIDENCE_QUANTUM) << _CONF_SHIFT) |
            ((uint256(s.a / q) & _mask(39)) << _A_SHIFT) |
            (uint256(s.b / q) << _B_SHIFT) |
            ((uint256(s.rho / q) & _mask(35)) << _RHO_SHIFT) |
            ((uint256(s.m / q) & _mask(39)) << _M_SHIFT) |
            (uint256(s.sigma / q) << _SIGMA_SHIFT);
    }

    /// @dev The inverse of `_pack`: signed fields are sign-extended by an arithmetic right shift.
    function _unpack(
        uint256 word
    ) private pure returns (SviMath.Params memory p, uint256 timestamp, uint256 confidenceWad) {
        int256 q = int256(PARAM_QUANTUM);
        timestamp = word & _mask(_TS_BITS);
        confidenceWad = ((word >> _CONF_SHIFT) & _mask(30)) * CONFIDENCE_QUANTUM;
        p.a = (int256(word << (256 - _B_SHIFT)) >> (256 - 39)) * q;
        p.b = int256((word >> _B_SHIFT) & _mask(35)) * q;
        p.rho = (int256(word << (256 - _M_SHIFT)) >> (256 - 35)) * q;
        p.m = (int256(word << (256 - _SIGMA_SHIFT)) >> (256 - 39)) * q;
        p.sigma = int256(word >> _SIGMA_SHIFT) * q;
    }

    function _mask(uint256 bits) private pure returns (uint256) {
        return (1 << bits) - 1;
    }

    /// @dev The first day whose 08:00 UTC is after the block, and the bitmap word of the horizon's
    /// last day: every live posted day is in [firstDay, (lastWord + 1) << 8) (a day is posted only
    /// within the horizon, which only moves forward).
    function _liveDays() private view returns (uint256 firstDay, uint256 lastWord) {
        firstDay = (block.timestamp - SeriesLib.EXPIRY_TIME_OF_DAY) / 1 days + 1;
        lastWord = ((block.timestamp + SeriesLib.MAX_EXPIRY_HORIZON) / 1 days) >> 8;
    }

    /// @dev Posted days whose 08:00 UTC is after the block: the popcount of at most three bitmap
    /// words (366 days), the first one's past days shifted out.
    function _liveCount(address underlying) private view returns (uint256 count) {
        mapping(uint256 => uint256) storage days_ = _postedDays[underlying];
        (uint256 firstDay, uint256 lastWord) = _liveDays();
        uint256 w = firstDay >> 8;
        count = LibBit.popCount(days_[w] >> (firstDay & 255));
        while (w < lastWord) count += LibBit.popCount(days_[++w]);
    }

    /// @dev Nearest posted days strictly before and after `expiry`'s day, unexpired and within the
    /// horizon, as expiries (0 when none): an expired day is never a neighbour. At most three
    /// bitmap words per side (366 days).
    function _neighbours(address underlying, uint256 expiry) private view returns (uint256 previous, uint256 next) {
        mapping(uint256 => uint256) storage days_ = _postedDays[underlying];
        uint256 day = expiry / 1 days;
        // Below: days whose 08:00 is still in the future.
        uint256 firstDay = (block.timestamp - SeriesLib.EXPIRY_TIME_OF_DAY) / 1 days + 1;
        if (day > firstDay) {
            uint256 wordIdx = (day - 1) >> 8;
            uint256 bits = days_[wordIdx] & (type(uint256).max >> (255 - ((day - 1) & 255)));
            while (bits == 0 && wordIdx > firstDay >> 8) bits = days_[--wordIdx];
            if (bits != 0) {
                uint256 d = (wordIdx << 8) | LibBit.fls(bits);
                if (d >= firstDay) previous = d * 1 days + SeriesLib.EXPIRY_TIME_OF_DAY;
            }
        }
        // Above: up to the horizon, and never an expired day (the oracle only asks for live
        // expiries, after which every day is live; the view may be asked for an expired one).
        uint256 lastDay = (block.timestamp + SeriesLib.MAX_EXPIRY_HORIZON) / 1 days;
        uint256 from = day + 1 < firstDay ? firstDay : day + 1;
        if (from <= lastDay) {
            uint256 wordIdx = from >> 8;
            uint256 bits = days_[wordIdx] & (type(uint256).max << (from & 255));
            while (bits == 0 && wordIdx < lastDay >> 8) bits = days_[++wordIdx];
            if (bits != 0) {
                uint256 d = (wordIdx << 8) | LibBit.ffs(bits);
                if (d <= lastDay) next = d * 1 days + SeriesLib.EXPIRY_TIME_OF_DAY;
            }
        }
    }
}
