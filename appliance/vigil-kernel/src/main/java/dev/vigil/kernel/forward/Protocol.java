package dev.vigil.kernel.forward;

/** Transport protocol of an address+port service (IPVS {@code IPVS_SVC_ATTR_PROTOCOL}). */
public enum Protocol {
    TCP(6), UDP(17), SCTP(132);

    private final int number;

    Protocol(int number) {
        this.number = number;
    }

    /** The IP protocol number. */
    public int number() {
        return number;
    }
}
