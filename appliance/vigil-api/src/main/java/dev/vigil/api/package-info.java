/**
 * The plugin API: extension points for health checkers, notifiers and VIP backends, and the
 * immutable values they exchange with the host. Plugins depend on this module and on PF4J,
 * both with {@code provided} scope, and on nothing else of Vigil's.
 */
package dev.vigil.api;
