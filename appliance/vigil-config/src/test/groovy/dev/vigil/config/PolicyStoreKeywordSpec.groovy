package dev.vigil.config

import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path

import static dev.vigil.config.ConfigFixture.load

/** global_defs vigil_policy_store: the policy store's file, or off. */
class PolicyStoreKeywordSpec extends Specification {
    @TempDir
    Path dir

    def 'vigil_policy_store is kept as an absolute path, relative to the file that names it, or off'() {
        when:
        def r = load(dir, "global_defs {\n    vigil_policy_store ${word}\n}\n")

        then:
        !r.hasErrors()
        r.config().globalDefs().other()['vigil_policy_store'] == [expected.replace('DIR', dir.toString())]

        where:
        word                          || expected
        '/var/lib/vigil/policies.db'  || '/var/lib/vigil/policies.db'
        'state/policies.db'           || 'DIR/state/policies.db'
        'off'                         || 'off'
    }

    def 'a vigil_policy_store that is a directory, or has no path, is an error at its location'() {
        given:
        Files.createDirectories(dir.resolve('state'))

        when:
        def r = load(dir, "global_defs {\n    vigil_policy_store${word}\n}\n")

        then:
        r.errors()*.format() == [message.replace('DIR', dir.toString())]
        !r.config().globalDefs().other().containsKey('vigil_policy_store')

        where:
        word     || message
        ' state' || 'DIR/keepalived.conf:2:24: error: vigil_policy_store state: is a directory (DIR/state); expected the store\'s file, e.g. /var/lib/vigil/policies.db, or off'
        ''       || 'DIR/keepalived.conf:2:5: error: missing argument for "vigil_policy_store"'
    }
}
