package dev.vigil.kernel.linux.nft;

import java.util.List;

import dev.vigil.kernel.AddressFamily;
import dev.vigil.kernel.forward.ServiceKey;

/**
 * One change to the tables {@link NftablesForwarder} owns, in the terms of its layout. A list of
 * them is one transaction, sent as netlink messages ({@link NfTablesCodec}) or written as an
 * {@code nft -f} script ({@link NftScript}) that makes the same rules.
 */
sealed interface NftOp {
    /** A table with its two dispatch maps and the base chains that look them up. */
    record AddTable(AddressFamily family, String table) implements NftOp {
    }

    /** A service: its chain, its map and elements, its rule, and its dispatch element. */
    record AddService(ServicePlan plan) implements NftOp {
    }

    /**
     * Removes what exists of a service (a service found damaged may lack some pieces): the dispatch
     * element, the chain with its rule, the map.
     */
    record RemoveService(AddressFamily family, String table, ServiceKey key, boolean dispatch, boolean chain,
                         boolean map) implements NftOp {
        /** A whole service. */
        static RemoveService whole(AddressFamily family, String table, ServiceKey key) {
            return new RemoveService(family, table, key, true, true, true);
        }
    }

    /** Replaces the rule in a service's chain by the one {@code plan} needs. */
    record ReplaceRule(ServicePlan plan) implements NftOp {
    }

    /** Adds elements to the map of {@code plan}'s service. */
    record AddSlots(ServicePlan plan, List<ServicePlan.Slot> slots) implements NftOp {
        public AddSlots {
            slots = List.copyOf(slots);
        }
    }

    /** Removes elements (by their slots) from the map of {@code plan}'s service. */
    record RemoveSlots(ServicePlan plan, List<ServicePlan.Slot> slots) implements NftOp {
        public RemoveSlots {
            slots = List.copyOf(slots);
        }
    }
}
