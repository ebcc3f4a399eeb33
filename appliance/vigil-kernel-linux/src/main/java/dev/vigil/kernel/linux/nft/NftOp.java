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
    /** A table with its two NAT dispatch maps and the NAT base chains that look them up. */
    record AddTable(AddressFamily family, String table) implements NftOp {
    }

    /**
     * A table's DR dispatch: its two maps and the filter base chain on {@code prerouting} that looks
     * them up, made when the table's first DR service comes.
     */
    record AddDirectDispatch(AddressFamily family, String table) implements NftOp {
    }

    /** Removes a table's DR dispatch: its base chain with the chain's rules, and its two maps. */
    record RemoveDirectDispatch(AddressFamily family, String table) implements NftOp {
    }

    /** Deletes a whole table with everything in it (the single table of an earlier layout). */
    record RemoveTable(AddressFamily family, String table) implements NftOp {
    }

    /** A service: its chain, its map and elements, its rule, and its dispatch element. */
    record AddService(ServicePlan plan) implements NftOp {
    }

    /**
     * Removes what exists of a service (a service found damaged may lack some pieces): its element
     * in the NAT dispatch map ({@code dispatch}) or the DR one ({@code directDispatch}), the chain
     * with its rule, the map.
     */
    record RemoveService(AddressFamily family, String table, ServiceKey key, boolean dispatch,
                         boolean directDispatch, boolean chain, boolean map) implements NftOp {
        /** A whole service, NAT or DR ({@code direct}). */
        static RemoveService whole(AddressFamily family, String table, ServiceKey key, boolean direct) {
            return new RemoveService(family, table, key, !direct, direct, true, true);
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
