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
}
