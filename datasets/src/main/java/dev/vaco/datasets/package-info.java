/** vaco datasets. */
package dev.vaco.datasets;
