/**
 * LoRA adapters in PEFT's terms: {@link dev.vaco.model.lora.LoraConfig} ({@code lora.*}), the adaptable layers
 * {@link dev.vaco.model.lora.LoraTarget}, PEFT's adapter directory ({@link dev.vaco.model.lora.AdapterFiles}) and
 * the merge of an adapter into full weights ({@link dev.vaco.model.lora.LoraMerge}). Here, below both engines: the
 * learner trains adapters ({@code dev.vaco.learner.policy.LoraLayers}) and the server applies them as graph inputs
 * ({@code dev.vaco.server.engine.AdapterInputs}), and the server cannot depend on the learner.
 */
package dev.vaco.model.lora;
