package dev.vaco.trainer.config;

import dev.vaco.learner.optim.OptimConfig;
import dev.vaco.learner.objective.ObjectiveConfig;
import dev.vaco.model.ConfigException;
import dev.vaco.learner.objective.LossAggregation;
import dev.vaco.learner.objective.Vaco;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ConfigLoaderTest {
    @TempDir
    Path dir;

    @Test
    void defaultsLoad() {
        TrainConfig c = ConfigLoader.load(List.of());
        assertThat(c).isEqualTo(TrainConfig.defaults());
        assertThat(c.objective().name()).isEqualTo("vaco");
        assertThat(c.objective().delta()).isEqualTo(0.05);
        assertThat(c.objective().rhoBar()).isEqualTo(1.0);
        assertThat(c.objective().klCoef()).isEqualTo(0.0);
    }

    @Test
    void commaListKeysTakeAYamlListAsPeftWritesThem() throws IOException {
        Path yaml = Files.writeString(dir.resolve("lora.yaml"), """
                lora:
                  r: 8
                  target_modules: [q_proj, k_proj, down_proj]
                run:
                  levels:
                    - 1
                    - 2
                """);
        TrainConfig c = ConfigLoader.load(yaml, List.of());
        assertThat(c.lora().targetModules()).isEqualTo("q_proj,k_proj,down_proj");
        assertThat(c.run().levels()).isEqualTo("1,2");
        // a list where one name is expected, or a list of sections, is still refused naming the key
        Path bad = Files.writeString(dir.resolve("bad-list.yaml"), "run:\n  model: [a, b]\n");
        assertThatThrownBy(() -> ConfigLoader.load(bad, List.of())).hasMessageContaining("run.model");
        Path nested = Files.writeString(dir.resolve("nested.yaml"), "lora:\n  target_modules: [{a: 1}]\n");
        assertThatThrownBy(() -> ConfigLoader.load(nested, List.of())).hasMessageContaining("lora.target_modules");
    }

    @Test
    void fileThenCommandLineOverridesApply() throws IOException {
        Path yaml = Files.writeString(dir.resolve("run.yaml"), """
                objective:
                  delta: 0.3
                  test_scope: group-mean
                  aggregation: seq-mean-token-mean
                optim:
                  lr: 1e-4
                  warmup_steps: 5
                rollout:
                  group_size: 4
                run:
                  seed: 7
                  out_dir: runs/lag4
                """);
        TrainConfig c = ConfigLoader.load(yaml, List.of("objective.delta=0.25", "rollout.max_staleness=8",
                "rollout.lag=4", "objective.drop_all_equal_groups=true"));
        assertThat(c.objective().delta()).isEqualTo(0.25);            // command line wins over the file
        assertThat(c.objective().testScope()).isEqualTo(Vaco.TestScope.GROUP_MEAN);
        assertThat(c.objective().aggregation()).isEqualTo(LossAggregation.SEQ_MEAN_TOKEN_MEAN);
        assertThat(c.objective().dropAllEqualGroups()).isTrue();
        assertThat(c.optim().lr()).isEqualTo(1e-4);
        assertThat(c.optim().warmupSteps()).isEqualTo(5);
        assertThat(c.optim().beta1()).isEqualTo(OptimConfig.defaults().beta1()); // untouched default
        assertThat(c.rollout().groupSize()).isEqualTo(4);
        assertThat(c.rollout().lag()).isEqualTo(4);
        assertThat(c.run().seed()).isEqualTo(7);
        assertThat(c.run().outDir()).isEqualTo("runs/lag4");
    }

    @Test
    void anEmptySectionOrFileIsNoOverride() throws IOException {
        Path yaml = Files.writeString(dir.resolve("empty.yaml"), "objective:\n  # delta: 0.3\nrun:\n  steps: 50\n");
        assertThat(ConfigLoader.load(yaml, List.of()).objective()).isEqualTo(ObjectiveConfig.defaults());
        Path blank = Files.writeString(dir.resolve("blank.yml"), "# nothing yet\n");
        assertThat(ConfigLoader.load(blank, List.of())).isEqualTo(TrainConfig.defaults());
    }

    @Test
    void jsonFileWorksToo() throws IOException {
        Path json = Files.writeString(dir.resolve("o.json"),
                "{\"objective\": {\"name\": \"grpo\", \"kl_coef\": 0.04}}");
        TrainConfig c = ConfigLoader.load(json, List.of());
        assertThat(c.objective().name()).isEqualTo("grpo");
        assertThat(c.objective().klCoef()).isEqualTo(0.04);
    }

    @Test
    void unknownKeyFailsNamingItsPathAndTheValidKeys() throws IOException {
        assertThatThrownBy(() -> ConfigLoader.load(List.of("objective.dleta=0.3")))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("objective.dleta: unknown key").hasMessageContaining("delta");
        Path yaml = Files.writeString(dir.resolve("bad.yaml"), "optim:\n  learning_rate: 0.1\n");
        assertThatThrownBy(() -> ConfigLoader.load(yaml, List.of()))
                .hasMessageStartingWith("optim.learning_rate: unknown key").hasMessageContaining("lr");
        assertThatThrownBy(() -> ConfigLoader.load(List.of("trainer.lr=1")))
                .hasMessageStartingWith("trainer: unknown key");
    }

    @Test
    void badValuesFailNamingTheKeyPathAndWhatWasExpected() throws IOException {
        assertThatThrownBy(() -> ConfigLoader.load(List.of("objective.delta=abc")))
                .hasMessage("objective.delta: expected a number, found 'abc'");
        assertThatThrownBy(() -> ConfigLoader.load(List.of("objective.delta=1.5")))
                .hasMessageStartingWith("objective.delta: expected a number in (0, 1)").hasMessageContaining("1.5");
        assertThatThrownBy(() -> ConfigLoader.load(List.of("rollout.group_size=2.5")))
                .hasMessageStartingWith("rollout.group_size: expected an integer").hasMessageContaining("2.5");
        assertThatThrownBy(() -> ConfigLoader.load(List.of("objective.drop_all_equal_groups=yes")))
                .hasMessage("objective.drop_all_equal_groups: expected true or false, found 'yes'");
        assertThatThrownBy(() -> ConfigLoader.load(List.of("objective=vaco")))
                .hasMessageStartingWith("objective: expected a section with keys [name, advantage");
        assertThatThrownBy(() -> ConfigLoader.load(List.of("objective.delta")))
                .hasMessageContaining("expected an override key.path=value");
        assertThatThrownBy(() -> ConfigLoader.load(List.of("rollout.lag=9")))
                .hasMessageStartingWith("rollout.lag: expected an integer in [0, rollout.max_staleness = 4]");
        assertThatThrownBy(() -> ConfigLoader.load(List.of("objective.name=ppo_clip", "objective.kl_coef=0.1")))
                .hasMessageStartingWith("objective.kl_coef: expected 0 for objective ppo_clip");
        Path yaml = Files.writeString(dir.resolve("list.yaml"), "optim:\n  lr: [1, 2]\n");
        assertThatThrownBy(() -> ConfigLoader.load(yaml, List.of()))
                .hasMessage("optim.lr: expected a value, found a list");
        Path missing = dir.resolve("missing.yaml");
        assertThatThrownBy(() -> ConfigLoader.load(missing, List.of())) // a usage error (exit 2), naming the file
                .isInstanceOf(ConfigException.class).hasMessage(missing + ": no such config file");
    }

    /** The demo's task: worked solutions for some levels, final answers only for others, all held out level by level. */
    @Test
    void demonstratedAndAnswerOnlyLevelsAreCheckedAndHeldOutTogether() {
        TrainConfig c = ConfigLoader.load(List.of("sft.levels=6,7", "run.levels=8,9"));
        assertThat(c.sftMix()).isEqualTo(dev.vaco.datasets.LevelMix.of(6, 7));
        assertThat(c.run().levelMix()).isEqualTo(dev.vaco.datasets.LevelMix.of(8, 9));
        assertThat(c.heldOutMix()).isEqualTo(dev.vaco.datasets.LevelMix.of(6, 7, 8, 9));
        TrainConfig same = ConfigLoader.load(List.of("run.levels=1"));
        assertThat(same.sftMix()).isEqualTo(same.run().levelMix()).isEqualTo(same.heldOutMix());
        assertThatThrownBy(() -> ConfigLoader.load(List.of("sft.levels=0,6")))
                .hasMessageStartingWith("sft.levels: expected empty (run.levels) or a comma-separated list of levels 1-9");
        assertThatThrownBy(() -> ConfigLoader.load(List.of("run.levels=10")))
                .hasMessageStartingWith("run.levels: expected all or a comma-separated list of levels 1-9");
        assertThatThrownBy(() -> ConfigLoader.load(List.of("sft.levels=6", "run.dataset=openai/gsm8k")))
                .hasMessageStartingWith("sft.levels: expected empty unless run.dataset is synthetic");
        assertThatThrownBy(() -> ConfigLoader.load(List.of("sft.target_loss=-1")))
                .hasMessageStartingWith("sft.target_loss: expected a number >= 0 (0 = off)");
        assertThat(ConfigLoader.load(List.of("sft.demonstrations=300")).sft().demonstrations()).isEqualTo(300);
        assertThatThrownBy(() -> ConfigLoader.load(List.of("sft.demonstrations=-1")))
                .hasMessageStartingWith("sft.demonstrations: expected an integer >= 0 (0 = every training problem)");
    }

    @Test
    void badEnumOrObjectiveNameFailsListingTheValidOnes() {
        assertThatThrownBy(() -> ConfigLoader.load(List.of("objective.aggregation=mean")))
                .isInstanceOf(ConfigException.class)
                .hasMessage("objective.aggregation: expected one of [token-mean, seq-mean-token-mean], found 'mean'");
        assertThatThrownBy(() -> ConfigLoader.load(List.of("objective.tv_anchor=learner")))
                .hasMessage("objective.tv_anchor: expected one of [behaviour, learner-start], found 'learner'");
        assertThatThrownBy(() -> ConfigLoader.load(List.of("objective.name=ppo")))
                .hasMessageStartingWith("objective.name: expected one of [vaco, ppo_clip, grpo, decoupled_ppo");
    }

    @Test
    void resolvedJsonHasEveryDefaultAndRoundTrips() {
        TrainConfig c = ConfigLoader.load(List.of("objective.test_scope=sequence-mean", "optim.lr=3e-5",
                "run.out_dir=runs/x"));
        String json = ConfigLoader.toJson(c);
        assertThat(json).contains("\"test_scope\" : \"sequence-mean\"", "\"rho_bar\" : 1.0", "\"max_grad_norm\"",
                "\"updates_per_batch\"", "\"checkpoint_every\"", "\"batch_size\"");
        Path file = dir.resolve("out/config.json");
        ConfigLoader.writeResolved(c, file);
        assertThat(ConfigLoader.load(file, List.of())).isEqualTo(c);
    }
}
