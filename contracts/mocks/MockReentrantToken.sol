// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title MockReentrantToken
/// @notice An ERC-20 that, once armed, calls back into a chosen contract in the middle of
/// every transfer (as an ERC-777 hook or a malicious listed token would). Tests only: it
/// proves the vault's entry points cannot be re-entered through a token.
contract MockReentrantToken is ERC20 {
    address public reentryTarget;
    bytes public reentryData;

    constructor() ERC20("Reentrant", "REENTER") {}

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    /// @notice Every later transfer calls `target` with `data` and bubbles its revert.
    function arm(address target_, bytes calldata data) external {
        reentryTarget = target_;
        reentryData = data;
    }

    function _update(address from, address to, uint256 value) internal override {
        super._update(from, to, value);
        address hook = reentryTarget;
        if (hook == address(0) || from == address(0)) return;
        reentryTarget = address(0); // one re-entry attempt per arming
        // solhint-disable-next-line avoid-low-level-calls
        (bool ok, bytes memory reason) = hook.call(reentryData);
        if (!ok) {
            assembly {
                revert(add(reason, 32), mload(reason))
            }
        }
    }
}
