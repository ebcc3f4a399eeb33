package dev.vigil.plugin.mail;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.file.Files;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.Collection;

/**
 * The TLS layer STARTTLS puts under the session, with the trust the settings ask for: the JDK's
 * trust store (default), the certificates of a {@code tls_ca} PEM file instead, or none at all with
 * {@code tls_verify no} (any certificate, any name: encryption against a passive listener only).
 */
final class TlsTrust {

    private TlsTrust() {
    }

    /**
     * The socket factory for {@code settings}, or {@code null} with {@code starttls no}.
     *
     * @throws IOException when the {@code tls_ca} file cannot be read or holds no certificate
     */
    static SSLSocketFactory factory(MailSettings settings) throws IOException, GeneralSecurityException {
        if (settings.startTls() == MailSettings.StartTls.NO) {
            return null;
        }
        if (!settings.tlsVerify()) {
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(null, new TrustManager[]{new AnyCertificate()}, null);
            return ctx.getSocketFactory();
        }
        if (settings.tlsCa() == null) {
            return SSLContext.getDefault().getSocketFactory();
        }
        KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
        store.load(null, null);
        Collection<? extends Certificate> certs;
        try (InputStream in = Files.newInputStream(settings.tlsCa())) {
            certs = CertificateFactory.getInstance("X.509").generateCertificates(in);
        }
        if (certs.isEmpty()) {
            throw new IOException("no certificate in " + settings.tlsCa() + " (expected: PEM, -----BEGIN CERTIFICATE-----)");
        }
        int i = 0;
        for (Certificate c : certs) {
            store.setCertificateEntry("ca-" + i++, c);
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(store);
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, tmf.getTrustManagers(), null);
        return ctx.getSocketFactory();
    }

    /** {@code tls_verify no}: every server certificate is taken. */
    private static final class AnyCertificate extends X509ExtendedTrustManager {
        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) {
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) {
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) {
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) {
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) {
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) {
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return new X509Certificate[0];
        }
    }
}
