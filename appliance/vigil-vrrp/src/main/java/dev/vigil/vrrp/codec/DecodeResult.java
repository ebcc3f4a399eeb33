package dev.vigil.vrrp.codec;

import java.util.Objects;

/** Outcome of decoding or validating one VRRP message. */
public sealed interface DecodeResult {

    /** The message is valid. */
    record Ok(VrrpAdvert advert) implements DecodeResult {
        public Ok {
            Objects.requireNonNull(advert, "advert");
        }
    }

    /**
     * The message is dropped.
     *
     * @param kind    the drop reason (one counter per kind)
     * @param message what was seen, then what was expected: {@code "bad ttl: 64 (expected: 255)"}
     */
    record Error(DecodeError kind, String message) implements DecodeResult {
        public Error {
            Objects.requireNonNull(kind, "kind");
            Objects.requireNonNull(message, "message");
        }
    }
}
