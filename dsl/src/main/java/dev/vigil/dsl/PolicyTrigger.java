package dev.vigil.dsl;

import dev.vigil.api.NotifierEvent;
import groovy.lang.Closure;

/**
 * A handler for events, as {@code realServerDown { event -> ... }} builds it and {@code on} installs
 * it: the event type it answers, for {@code becameMaster}/{@code becameBackup}/{@code fault} the
 * state the instance went to, and the handler's body.
 */
public final class PolicyTrigger {

    final String word;
    final String type;
    final String to;
    final Closure<?> body;

    PolicyTrigger(String word, String type, String to, Closure<?> body) {
        if (body == null) {
            throw new PolicyRuntimeException(word + " needs a handler: on " + word + " { event -> ... }");
        }
        this.word = word;
        this.type = type;
        this.to = to;
        this.body = body;
    }

    boolean matches(NotifierEvent e) {
        return type.equals(e.type()) && (to == null || to.equalsIgnoreCase(e.detail("to")));
    }

    @Override
    public String toString() {
        return "on " + word;
    }
}
