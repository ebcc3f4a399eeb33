/**
 * keepalived's HTTP request and body digest, shared by every piece of Vigil that speaks it: the
 * {@code HTTP_GET}/{@code SSL_GET} checker plugin and {@code vigil genhash}, and open to a third
 * party's checker that wants the same request. {@link dev.vigil.api.http.HttpGet} sends one
 * {@code GET} on a Netty event loop (plain or TLS) and reads the answer with a
 * {@link dev.vigil.api.http.ResponseReader}, which is pure: bytes in, status code and MD5 of the
 * body out.
 */
package dev.vigil.api.http;
