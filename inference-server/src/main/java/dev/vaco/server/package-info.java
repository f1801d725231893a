/** vaco inference-server. */
package dev.vaco.server;
