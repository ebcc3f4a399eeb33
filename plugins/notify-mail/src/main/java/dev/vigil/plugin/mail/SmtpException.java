package dev.vigil.plugin.mail;

import java.io.IOException;

/**
 * A delivery that failed, in words an operator can act on: which server, at which step, and the
 * server's reply when there was one ({@code SMTP server 10.0.0.1:25 answered RCPT TO:<ops@example.com>
 * with 550 "5.1.1 unknown user" (expected 250)}). Never holds a password.
 */
public class SmtpException extends IOException {

    public SmtpException(String message) {
        super(message);
    }

    public SmtpException(String message, Throwable cause) {
        super(message, cause);
    }
}
