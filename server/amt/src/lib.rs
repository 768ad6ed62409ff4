//! Intel AMT protocol library, used by the portal (client side) and the simulator (device side).
