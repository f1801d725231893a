/** vaco cli. */
package dev.vaco.cli;
