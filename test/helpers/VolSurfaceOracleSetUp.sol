// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Vm} from "forge-std/Vm.sol";

import {VolSurfaceOracle} from "../../contracts/oracle/VolSurfaceOracle.sol";
import {IVolSurfaceOracle} from "../../contracts/interfaces/IVolSurfaceOracle.sol";

/// @notice The vol-surface oracle every test posts to: three whitelisted signers, quorum 2, a
/// change ratio of 4, one underlying listed; and the quorum's signatures of a post. A library
/// rather than a base contract, so a test on another fixture (`PledgeFixture`) uses it too.
library VolSurfaceOracleSetUp {
    Vm private constant VM = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));

    /// @dev The three signer keys, sorted by address: the oracle takes signatures in increasing
    /// signer order.
    function sortedSignerKeys() internal pure returns (uint256[3] memory keys) {
        keys = [uint256(0xA11CE), 0xB0B, 0xC4A1];
        for (uint256 i; i < 3; ++i) {
            for (uint256 j = i + 1; j < 3; ++j) {
                if (VM.addr(keys[j]) < VM.addr(keys[i])) (keys[i], keys[j]) = (keys[j], keys[i]);
            }
        }
    }

    /// @dev Deploys the oracle at the current block time, with the calling test as its admin and
    /// the signers of `keys`, and lists `underlying`.
    function deploy(uint256[3] memory keys, address underlying) internal returns (VolSurfaceOracle oracle) {
        address[] memory signers = new address[](3);
        for (uint256 i; i < 3; ++i) signers[i] = VM.addr(keys[i]);
        oracle = new VolSurfaceOracle(address(this), signers, 2, 4e18);
        oracle.setUnderlying(underlying, true);
    }

    /// @dev The quorum's signatures of `post`: the first two signers', in order.
    function quorumSignatures(
        IVolSurfaceOracle oracle,
        uint256[3] memory keys,
        IVolSurfaceOracle.SurfacePost memory post
    ) internal view returns (bytes[] memory sigs) {
        bytes32 digest = oracle.postDigest(post);
        sigs = new bytes[](2);
        for (uint256 i; i < 2; ++i) {
            (uint8 v, bytes32 r, bytes32 s) = VM.sign(keys[i], digest);
            sigs[i] = abi.encodePacked(r, s, v);
        }
    }

    /// @dev The smile every engine test posts for (`expiry`): a = 0.02·level, b = 0.1·level,
    /// ρ = −0.3, m = 0, σ = 0.2 (about 70 % ATM at 30 days for `level` 1e18, about 99 % at 2e18).
    /// `level` must keep a and b on the oracle's 1e8 quantum (steps of 0.05e18 do).
    function smile(
        uint256 expiry,
        int256 level,
        uint256 confidence
    ) internal pure returns (IVolSurfaceOracle.SurfaceInput memory) {
        return
            IVolSurfaceOracle.SurfaceInput({
                expiry: expiry,
                a: (0.02e18 * level) / 1e18,
                b: (0.1e18 * level) / 1e18,
                rho: -0.3e18,
                m: 0,
                sigma: 0.2e18,
                confidence: confidence
            });
    }

    /// @dev Posts `smile(expiry, level, confidence)` for `underlying`, signed by the quorum at the
    /// block's time.
    function postSmile(
        IVolSurfaceOracle oracle,
        uint256[3] memory keys,
        address underlying,
        uint256 expiry,
        int256 level,
        uint256 confidence
    ) internal {
        IVolSurfaceOracle.SurfacePost memory p;
        p.underlying = underlying;
        p.timestamp = block.timestamp;
        p.surfaces = new IVolSurfaceOracle.SurfaceInput[](1);
        p.surfaces[0] = smile(expiry, level, confidence);
        oracle.post(p, quorumSignatures(oracle, keys, p));
    }
}
