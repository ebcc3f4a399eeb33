package dev.vigil.config

import dev.vigil.config.lex.ConfigReader
import dev.vigil.config.lex.TreeBuilder
import java.nio.file.Path
import spock.lang.Specification
import spock.lang.TempDir

class ConfigReaderSpec extends Specification {
    @TempDir
    Path dir

    Diagnostics diags = new Diagnostics()

    List<List<Token>> read(String text, LoadOptions opts = ConfigFixture.options()) {
        new ConfigReader(opts, diags).read(ConfigFixture.write(dir, 'k.conf', text))
    }

    List<List<String>> words(String text, LoadOptions opts = ConfigFixture.options()) {
        read(text, opts).collect { line -> line*.text() }
    }

    def "comments start with # or ! at the start of a word, outside quotes"() {
        expect:
        words('''\
            # whole line
            ! also whole line
            router_id a#b  # trailing
            auth_pass "x # y" ! trailing
            smtp_server 10.0.0.1! not a comment
            ''') == [['router_id', 'a#b'], ['auth_pass', 'x # y'], ['smtp_server', '10.0.0.1!', 'not', 'a', 'comment']]
    }

    def "quotes of both kinds with C escapes; quoted braces are words"() {
        when:
        def lines = read('''notify "/bin/echo \\"hi\\"\\tthere" 'it\\x41s' "{" "a\\101"\n''')

        then:
        lines[0]*.text() == ['notify', '/bin/echo "hi"\tthere', 'itAs', '{', 'aA']
        lines[0][1].quoted()
        !lines[0][3].isOpen()
        diags.all().isEmpty()
    }

    def "tokens keep file, 1-based line and column of their first character"() {
        when:
        def lines = read('vrrp_instance VI_1 {\n\tstate  "MASTER"\n}\n')

        then:
        lines[0].collect { [it.ref().line(), it.ref().col()] } == [[1, 1], [1, 15], [1, 20]]
        lines[1].collect { [it.ref().line(), it.ref().col()] } == [[2, 2], [2, 9]]
        lines[0][0].ref().file() == dir.resolve('k.conf').toAbsolutePath()
    }

    def "braces glued to words are split off"() {
        expect:
        words('vrrp_instance VI_1{\nvirtual_ipaddress{10.0.0.1}}\n') ==
                [['vrrp_instance', 'VI_1', '{'], ['virtual_ipaddress', '{', '10.0.0.1', '}', '}']]
    }

    def "columns of glued braces point at the brace"() {
        expect:
        read('a{b}\n')[0].collect { it.ref().col() } == [1, 2, 3, 4]
    }

    def "conditional lines follow the config-id"() {
        given:
        def text = '''\
            @node1 priority 200
            @node2 priority 100
            @^node1 state BACKUP
            @^node2 state MASTER
            '''

        expect:
        words(text, ConfigFixture.options([:], 'node1')) == [['priority', '200'], ['state', 'MASTER']]
        words(text, ConfigFixture.options([:], 'node2')) == [['priority', '100'], ['state', 'BACKUP']]
    }

    def "a conditional line keeps the columns of the original text"() {
        expect:
        read('@node1 priority 200\n')[0]*.ref()*.col() == [8, 17]
    }

    def "parameters are substituted at use time, recursively, as \$NAME and \${NAME}"() {
        expect:
        words('''\
            $IF=eth0
            $BOTH=$IF ${IF}1
            interface $IF
            track $BOTH ${IF}_x
            $IF=eth9
            interface $IF $UNDEFINED
            ''') == [['interface', 'eth0'], ['track', 'eth0', 'eth01', 'eth0_x'], ['interface', 'eth9', '$UNDEFINED']]
    }

    def "substituted words get the column of the \$"() {
        expect:
        read('$X=a b\nkw $X\n')[0]*.ref()*.col() == [1, 4, 4]
    }

    def "multi-line definitions continue with a backslash and expand to several lines"() {
        expect:
        words('''\
            $ADDRS=10.0.0.1 \\
                   10.0.0.2
            virtual_ipaddress {
            $ADDRS
            }
            ''') == [['virtual_ipaddress', '{'], ['10.0.0.1'], ['10.0.0.2'], ['}']]
    }

    def "built-in parameters"() {
        when:
        def w = words('''\
            a ${_PWD}
            b ${_INSTANCE}
            c ${_ENV HOME_DIR}
            d ${_HASH}x ${_BANG}y
            e ${_RANDOM 5 5}
            f ${_RANDOM 1 3}
            ''', ConfigFixture.options([HOME_DIR: '/home/k']))

        then:
        w[0] == ['a', dir.toAbsolutePath().toString()]
        w[1] == ['b', 'inst1']
        w[2] == ['c', '/home/k']
        w[3] == ['d', '#x', '!y']
        w[4] == ['e', '5']
        (w[5][1] as int) in 1..3
    }

    def "an undefined \${NAME} is reported and removed"() {
        when:
        def w = words('a ${NOPE}b\n')

        then:
        w == [['a', 'b']]
        diags.all()*.format() == ["${dir.resolve('k.conf').toAbsolutePath()}:1:3: warning: parameter \"NOPE\" is not defined".toString()]
    }

    def "~SEQ and ~LST generate one line per value and nest"() {
        expect:
        words('~SEQ(i,1,2,5) vrid $i\n') == [['vrid', '1'], ['vrid', '3'], ['vrid', '5']]
        words('~SEQx(i,9,11) v $i\n') == [['v', '9'], ['v', 'a'], ['v', 'b']]
        words('~SEQ(i,2) v $i\n') == [['v', '0'], ['v', '1'], ['v', '2']]
        words('~LST(n,a,b) name $n\n') == [['name', 'a'], ['name', 'b']]
        words('~LST({n,v},{a,1},{b,2}) $n=$v\n') == [['a=1'], ['b=2']]
        words('~SEQ(i,1,1,2) ~LST(x,p,q) $i$x\n') == [['1p'], ['1q'], ['2p'], ['2q']]
    }

    def "include resolves relative to the including file, with globs and csh braces, sorted"() {
        given:
        ConfigFixture.write(dir, 'conf.d/b.conf', 'b 1\n')
        ConfigFixture.write(dir, 'conf.d/a.conf', 'a 1\ninclude ../sub/x.conf\n')
        ConfigFixture.write(dir, 'conf.d/c.txt', 'c 1\n')
        ConfigFixture.write(dir, 'sub/x.conf', 'x 1\n')
        ConfigFixture.write(dir, 'one.conf', 'one 1\n')
        ConfigFixture.write(dir, 'two.conf', 'two 1\n')
        def reader = new ConfigReader(ConfigFixture.options(), diags)

        when:
        def lines = reader.read(ConfigFixture.write(dir, 'k.conf', 'top 1\ninclude conf.d/*.conf\ninclude {one,two}.conf\nend 1\n'))

        then:
        lines.collect { it[0].text() } == ['top', 'a', 'x', 'b', 'one', 'two', 'end']
        lines[2][0].ref().file() == dir.resolve('sub/x.conf').toAbsolutePath()
        lines[2][0].ref().line() == 1
        reader.files()*.fileName*.toString() == ['k.conf', 'a.conf', 'x.conf', 'b.conf', 'one.conf', 'two.conf']
        diags.all().isEmpty()
    }

    def "a missing include is a warning at the file name; an include loop is an error"() {
        when:
        ConfigFixture.write(dir, 'loop.conf', 'include k.conf\n')
        read('include nothere.conf\ninclude none*.conf\ninclude loop.conf\n')
        def k = dir.resolve('k.conf').toAbsolutePath()
        def loop = dir.resolve('loop.conf').toAbsolutePath()

        then:
        diags.all()*.format() == [
                "$k:1:9: warning: include file \"nothere.conf\" not found".toString(),
                "$k:2:9: warning: no file matches include \"none*.conf\"".toString(),
                "$loop:1:9: error: include loop: \"k.conf\" is already being read".toString()]
    }

    def "an unreadable included file is an error at the include"() {
        given:
        def sub = dir.resolve('adir.conf')
        java.nio.file.Files.createDirectories(sub)

        when:
        read('include adir.conf\n')

        then:
        diags.all().size() == 1
        diags.all()[0].severity() == Severity.ERROR
        diags.all()[0].ref().line() == 1
        diags.all()[0].ref().col() == 9
        diags.all()[0].message().startsWith('cannot read "adir.conf": ')
    }

    def "an unterminated quote is reported at the quote"() {
        when:
        def w = words('script "abc def\n')

        then:
        w == [['script', 'abc def']]
        diags.all()*.message() == ['unterminated quoted string']
        diags.all()[0].ref().col() == 8
    }

    def "the tree builder attaches a block opened on the next line"() {
        when:
        def nodes = new TreeBuilder(diags).build(read('vrrp_instance VI_1\n{\n  state MASTER\n  virtual_ipaddress\n  {\n 10.0.0.1\n }\n}\n'))

        then:
        nodes.size() == 1
        nodes[0].name() == 'vrrp_instance'
        nodes[0].argTexts() == ['VI_1']
        nodes[0].openBrace().line() == 2
        nodes[0].children()*.name() == ['state', 'virtual_ipaddress']
        nodes[0].children()[1].children()*.name() == ['10.0.0.1']
        diags.all().isEmpty()
    }

    def "the tree builder reports an unclosed brace at the brace and resumes at the next section"() {
        when:
        def nodes = new TreeBuilder(diags).build(read('global_defs {\n  router_id a\nvrrp_instance X {\n  state MASTER\n}\n'))

        then:
        nodes*.name() == ['vrrp_instance']
        diags.all()*.message() == ['unclosed "{" of "global_defs"']
        diags.all()[0].ref().line() == 1
        diags.all()[0].ref().col() == 13
    }

    def "the tree builder reports a stray closing brace and a brace without keyword"() {
        when:
        new TreeBuilder(diags).build(read('}\n{\n}\n'))

        then:
        diags.all()*.message() == ['unexpected "}"', '"{" without a keyword']
    }
}
