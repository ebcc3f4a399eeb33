/**
 * VRRP advertisement wire format: {@link dev.vigil.vrrp.codec.VrrpAdvert} (the message),
 * {@link dev.vigil.vrrp.codec.VrrpCodec} (bytes in both directions, checksums) and
 * {@link dev.vigil.vrrp.codec.ReceiveValidator} (the per-instance receive checks of RFC 3768 §7.1 and
 * RFC 5798 §7.1). Everything here is pure: no I/O, no clock, no logging.
 */
package dev.vigil.vrrp.codec;
