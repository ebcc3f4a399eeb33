package dev.vigil.daemon.check;

/** Makes the {@link ProbeLauncher} of each checker the {@link CheckEngine} starts; cheap, on the engine thread. */
@FunctionalInterface
public interface ProbeFactory {

    ProbeLauncher create(CheckSpec spec);
}
