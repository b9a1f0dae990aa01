#!/usr/bin/env bash
# Rebuilds the shipped default cascade (models/default) from scratch, piece by piece, as its
# lineage (reports/default-cascade-lineage.md, "Commands") and models/wip/base/model.json
# ("lineage") record it:
#
#   1. the first cascade: base 5,000 steps, SR 1 2,000 steps, SR 2 1,400 steps (plain loss);
#   2. the base continued with the object-weighted loss (weight 5, 7,164 steps);
#   3. two continuations of it (A: weight 5, 2,921 steps; F: weight 20, 1,200 steps), averaged;
#   4. rounds: two one-thread continuations (weight 5 and weight 20, fresh data seeds) averaged,
#      at lr 5e-4, then cooled down (lr 1e-4, 5e-5: round 10);
#   5. round 10's base + text encoder composed with step 1's SR stages;
#   6. SR 1 fine-tuned 1,500 steps against that text encoder, in place of step 1's SR 1
#      (the fourth version, session 11);
#   7. more rounds from round 10 at lr 5e-4, from round 13 on with a weight average of each run
#      (`pretrain --ema-decay 0.999`; the round averages the runs' averages): round 15;
#   8. round 15's base + text encoder composed in place of step 6's, and SR 1 fine-tuned another
#      1,500 steps (with the weight average) against that encoder (the fifth version, session 13);
#   9. round 16 from round 15, its base + text encoder composed in place of round 15's, and SR 1
#      fine-tuned another 1,500 steps against it (the sixth version, session 14);
#  10. rounds 17 and 18, their averages averaged, composed in place of round 16's base + text
#      encoder, and SR 1 fine-tuned another 1,500 steps against it (the seventh version, session 15);
#  11. round 19 from that average, averaged with it; round 20 (a cool-down at lr 1e-4) from that,
#      composed in place of the rounds 17+18 base + text encoder, and SR 1 fine-tuned another 1,500
#      steps against it (the eighth version, session 18);
#  12. round 21 (a second cool-down, lr 5e-5) from round 20, composed in place of round 20's base +
#      text encoder, and SR 1 fine-tuned another 1,500 steps against it (the ninth version, session 18);
#  13. round 22 (a third cool-down, lr 5e-5) from round 21, composed in place of round 21's base +
#      text encoder, and SR 1 fine-tuned another 1,500 steps against it (the tenth version, session 19).
#
#   bash tools/reproduce_default.sh            # everything into runs/repro/ (about 23.5 h of both cores)
#   OUT=models/default bash tools/reproduce_default.sh   # and replace the shipped model at the end
#
# Every piece trains to a fixed step count (the recorded one) with --resume, so the script can be
# stopped at any time and started again with the same command: finished pieces are skipped.
# Runs of a round use one BLAS thread each and run side by side on the two cores. Not bit-exact:
# native BLAS sums in a thread-dependent order, and the first cascade was scheduled differently
# (see the lineage); round 4's step counts were lost with session 8's runs/ (2,100 is the 40-minute
# count of its neighbouring rounds).
set -euo pipefail
cd "$(dirname "$0")/.."
DENO=${DENO:-"npx -y deno@2.9.6"}
R=${REPRO_DIR:-runs/repro}
OUT=${OUT:-$R/default}
export DREAMBOOTH_BLAS_THREADS=1
mkdir -p "$R"

# piece NAME INIT OBJECT_WEIGHT DATA_SEED STEPS [LR] [EMA_DECAY]: one base continuation, exported to
# $R/export_NAME (with EMA_DECAY, the export holds the run's weight average)
piece() {
  local name=$1 init=$2 weight=$3 seed=$4 steps=$5 lr=${6:-5e-4} ema=${7:--}
  local ema_args=()
  [ "$ema" != "-" ] && ema_args=(--ema-decay "$ema")
  if [ -f "$R/export_$name/cascade.safetensors" ]; then return 0; fi
  mkdir -p "$R/$name"
  $DENO task pretrain --stage base --run "$R/$name/base" --init-from "$init" --object-weight "$weight" \
    --data-seed "$seed" --lr "$lr" "${ema_args[@]}" --steps "$steps" --resume >> "$R/$name/base.log" 2>&1
  $DENO run -A training/export_cli.ts --runs "$R/$name" --stages base --out "$R/export_$name"
}

# soup NAME INIT STEPS_A SEED_A STEPS_B SEED_B [LR] [EMA_DECAY]: weight 5 and weight 20 side by side,
# averaged into $R/NAME
soup() {
  local name=$1 init=$2 lr=${7:-5e-4} ema=${8:--}
  if [ -f "$R/$name/cascade.safetensors" ]; then return 0; fi
  piece "${name}_l1" "$init" 5 "$4" "$3" "$lr" "$ema" &
  local a=$!
  piece "${name}_l2" "$init" 20 "$6" "$5" "$lr" "$ema" &
  local b=$!
  wait $a
  wait $b
  $DENO task average-cascades --inputs "$R/export_${name}_l1,$R/export_${name}_l2" --out "$R/$name"
  echo "$name done ($(date -u +%H:%M) UTC)"
}

# 1. the first cascade (SR 2 reads no text and runs beside the base; SR 1 copies the base's encoder)
if [ ! -f "$R/first/cascade.safetensors" ]; then
  mkdir -p "$R/pretrain"
  $DENO task pretrain --stage base --run "$R/pretrain/base" --steps 5000 --resume >> "$R/pretrain/base.log" 2>&1 &
  b=$!
  $DENO task pretrain --stage sr2 --run "$R/pretrain/sr2" --steps 1400 --resume >> "$R/pretrain/sr2.log" 2>&1
  wait $b
  $DENO task pretrain --stage sr1 --run "$R/pretrain/sr1" --base-run "$R/pretrain/base" --steps 2000 --resume \
    >> "$R/pretrain/sr1.log" 2>&1
  $DENO run -A training/export_cli.ts --runs "$R/pretrain" --out "$R/first"
fi

# 2. the object-weighted base (data seed 1048576, the base's default stream)
piece ow5 "$R/first/cascade.safetensors" 5 1048576 7164

# 3. A and F, averaged
soup af "$R/export_ow5/cascade.safetensors" 2921 1048592 1200 1048601

# rounds < TABLE: each line NAME, steps and seed of the weight 5 run, of the weight 20 run, the lr
# and the weight-average decay (- for none); each round starts from the one before ($prev)
rounds() {
  while read -r name s1 seed1 s2 seed2 lr ema; do
    soup "$name" "$prev/cascade.safetensors" "$s1" "$seed1" "$s2" "$seed2" "$lr" "$ema"
    prev=$R/$name
  done
}

# 4. the rounds up to round 10
prev=$R/af
rounds <<'ROUNDS'
round1 1746 1048593 1767 1048594 5e-4 -
round2 1706 1048595 1705 1048596 5e-4 -
round3 2000 1048602 1978 1048603 5e-4 -
round4 2100 1048604 2100 1048605 5e-4 -
round5 2120 1048606 2156 1048607 5e-4 -
round6 2317 1048608 2319 1048609 5e-4 -
round7 2412 1048610 2429 1048611 5e-4 -
round8 1723 1048612 1742 1048613 5e-4 -
round9 2156 1048614 2180 1048615 1e-4 -
round10 2024 1048616 2037 1048617 5e-5 -
ROUNDS

# refit TARGET COMPOSED SR1RUN SEED EMA OUT: the current base ($prev) and its text encoder composed in
# front of TARGET's SR stages into $R/COMPOSED; SR 1 fine-tuned 1,500 steps against that encoder (its
# own fresh data SEED; EMA: weight-average decay or -) in $R/SR1RUN and exported (the export takes the
# base and the encoder from the composed file: --base); then composed in place of TARGET's SR 1 into
# OUT (always rewritten when OUT is the script's $OUT)
refit() {
  local target=$1 composed=$R/$2 run=$R/$3 export=$R/export_$3 seed=$4 ema=$5 out=$6
  local ema_args=()
  [ "$ema" != "-" ] && ema_args=(--ema-decay "$ema")
  if [ ! -f "$composed/cascade.safetensors" ]; then
    $DENO task compose-cascades --target "$target" --donor "$prev" --parts base,text_encoder --out "$composed"
  fi
  if [ ! -f "$export/cascade.safetensors" ]; then
    mkdir -p "$run"
    $DENO task pretrain --stage sr1 --run "$run/sr1" --base-run "$composed/cascade.safetensors" \
      --init-from "$composed/cascade.safetensors" --data-seed "$seed" --steps 1500 "${ema_args[@]}" \
      --resume >> "$run/sr1.log" 2>&1
    $DENO run -A training/export_cli.ts --runs "$run" --stages base,sr1 \
      --base "$composed/cascade.safetensors" --out "$export"
  fi
  if [ "$out" = "$OUT" ] || [ ! -f "$out/cascade.safetensors" ]; then
    $DENO task compose-cascades --target "$composed" --donor "$export" --parts sr1 --out "$out"
  fi
}

# 5-6. round 10's base and encoder in front of the first cascade's SR stages, SR 1 fine-tuned against
#      that encoder: the fourth version
refit "$R/first" composed sr1ft 1048618 - "$R/fourth"

# 7. rounds 12-15 from round 10 (round 11, a second cool-down, was not taken)
rounds <<'ROUNDS'
round12 1520 1048623 1516 1048624 5e-4 -
round13 2117 1048625 2159 1048626 5e-4 0.999
round14 2186 1048627 2215 1048628 5e-4 0.999
round15 2280 1048629 2288 1048630 5e-4 0.999
ROUNDS

# 8. round 15's base and encoder in front of the fourth version's SR stages, SR 1 fine-tuned again
#    (with the weight average): the fifth version
refit "$R/fourth" composed15 sr1ft2 1048631 0.999 "$R/fifth"

# 9. round 16 from round 15, in front of the fifth version's SR stages, SR 1 fine-tuned once more:
#    the sixth version
rounds <<'ROUNDS'
round16 2102 1048632 2093 1048633 5e-4 0.999
ROUNDS
refit "$R/fifth" composed16 sr1ft3 1048634 0.999 "$R/sixth"

# 10. rounds 17 and 18 from round 16, the two rounds' averages averaged (equal weights), in front of
#     the sixth version's SR stages, SR 1 fine-tuned once more: the seventh version
rounds <<'ROUNDS'
round17 2057 1048635 2081 1048636 5e-4 0.999
round18 2058 1048638 2057 1048639 5e-4 0.999
ROUNDS
if [ ! -f "$R/r17r18/cascade.safetensors" ]; then
  $DENO task average-cascades --inputs "$R/round17,$R/round18" --out "$R/r17r18"
fi
prev=$R/r17r18
refit "$R/sixth" composed18 sr1ft4 1048637 0.999 "$R/seventh"

# 11. round 19 from the rounds 17+18 average, averaged with it (equal weights); round 20, a cool-down
#     at lr 1e-4, from that; in front of the seventh version's SR stages, SR 1 fine-tuned once more:
#     the eighth version
rounds <<'ROUNDS'
round19 1904 1048640 1896 1048641 5e-4 0.999
ROUNDS
if [ ! -f "$R/r17r18r19/cascade.safetensors" ]; then
  $DENO task average-cascades --inputs "$R/r17r18,$R/round19" --out "$R/r17r18r19"
fi
prev=$R/r17r18r19
rounds <<'ROUNDS'
round20 2062 1048642 2062 1048643 1e-4 0.999
ROUNDS
refit "$R/seventh" composed20 sr1ft5 1048644 0.999 "$R/eighth"

# 12. round 21, a second cool-down at lr 5e-5, from round 20; in front of the eighth version's SR
#     stages, SR 1 fine-tuned once more: the ninth version
rounds <<'ROUNDS'
round21 1698 1048645 1703 1048646 5e-5 0.999
ROUNDS
refit "$R/eighth" composed21 sr1ft6 1048647 0.999 "$R/ninth"

# 13. round 22, a third cool-down at lr 5e-5, from round 21; in front of the ninth version's SR
#     stages, SR 1 fine-tuned once more: the tenth version
rounds <<'ROUNDS'
round22 1804 1048648 1815 1048649 5e-5 0.999
ROUNDS
refit "$R/ninth" composed22 sr1ft7 1048650 0.999 "$OUT"
echo "default cascade rebuilt in $OUT"
