package dev.vigil.kernel;

import java.util.List;

/** Adds and removes interface addresses (rtnetlink RTM_NEWADDR / RTM_DELADDR / RTM_GETADDR). */
public interface AddressManager {

    /** Adds the address. Idempotent: an address already present is success. Blocking, short. */
    void add(VirtualAddress address) throws KernelException;

    /** Removes the address. Idempotent: an absent address is success. Blocking, short. */
    void remove(VirtualAddress address) throws KernelException;

    /** All addresses on all interfaces of this network namespace. */
    List<InterfaceAddress> addresses() throws KernelException;
}
