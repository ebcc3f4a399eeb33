package dev.vigil.daemon.track

import spock.lang.Specification

/** Policies' priority offsets on top of the trackers' state, on the way to the router. */
class PolicyTrackingSpec extends Specification {

    List<List> pushed = []
    PolicyTracking tracking = new PolicyTracking({ String inst, int delta, Set<String> faults -> pushed << [inst, delta, faults] } as TrackingSink)

    def 'an offset adds to the trackers, is replaced rather than summed, and goes with its policy'() {
        when: 'a tracker weighs -20, then a policy lowers by 50, twice'
        tracking.setTracking('VI_1', -20, ['script chk'] as Set)
        boolean first = tracking.setOffset('web', 'VI_1', -50)
        boolean again = tracking.setOffset('web', 'VI_1', -50)

        then: 'the router sees -70 with the tracker faults, once'
        first
        !again
        pushed == [['VI_1', -20, ['script chk'] as Set], ['VI_1', -70, ['script chk'] as Set]]

        when: 'another policy raises by 10 and the tracker recovers'
        tracking.setOffset('other', 'VI_1', 10)
        tracking.setTracking('VI_1', 0, [] as Set)

        then:
        pushed[-1] == ['VI_1', -40, [] as Set]
        tracking.offsets() == [VI_1: [other: 10, web: -50]]

        when: "the first policy is disabled"
        tracking.clear('web')

        then:
        pushed[-1] == ['VI_1', 10, [] as Set]
        tracking.offsets() == [VI_1: [other: 10]]
    }

    def 'a hand-over is a fault pulse: pushed with its fault, then without'() {
        given:
        tracking.setTracking('VI_1', 0, [] as Set)
        tracking.setOffset('web', 'VI_1', -50)
        pushed.clear()

        when:
        tracking.handOver('web', 'VI_1')

        then:
        pushed == [['VI_1', -50, ['policy web hand-over'] as Set], ['VI_1', -50, [] as Set]]
    }
}
