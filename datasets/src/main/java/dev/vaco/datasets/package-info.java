/**
 * vaco datasets: {@link dev.vaco.datasets.Problem} records loaded from JSONL and Parquet
 * ({@link dev.vaco.datasets.Datasets}, {@link dev.vaco.datasets.HubDatasets}), the synthetic arithmetic task
 * ({@link dev.vaco.datasets.SyntheticMath}); metrics live in {@code dev.vaco.trainer.eval}.
 */
package dev.vaco.datasets;
