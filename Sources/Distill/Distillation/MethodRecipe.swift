/// What each distillation method does, in one table (promptkd.md §3, §8): where a step's sequences come
/// from, which teacher the student is compared with, and the student's loss terms. The Distiller switches on
/// these features, never on the method itself, so a new method is one new row here.
extension DistillationOptions.Method {
    public struct Recipe: Sendable, Equatable {
        /// Where a step's sequences come from.
        public enum Sequences: Sendable, Equatable {
            /// The training data's prompts and responses.
            case data
            /// Student-sampled responses to the data's prompts.
            case studentSamples
            /// Teacher-sampled responses, generated once per example and cached.
            case cachedTeacherSamples
            /// With this probability per step fresh student samples go into the replay buffer (capacity 1000)
            /// and the step trains on a batch drawn from the buffer; otherwise on the data (GKD's λ 0.5,
            /// ImitKD's 1).
            case replayedStudentSamples(probability: Double)
            /// DistiLLM's adaptive off-policy schedule: fresh student samples, replayed ones or the data.
            case adaptiveReplay
        }

        /// Which distribution the student's divergence terms are taken against.
        public enum Teacher: Sendable, Equatable {
            case none
            /// The frozen teacher.
            case teacher
            /// The teacher behind PromptKD's soft prompt, whose prompt learns first in every step.
            case promptedTeacher
        }

        /// One term of the student's loss: weight · divergence(student, against).
        public struct Term: Sendable, Equatable {
            public enum Against: Sendable, Equatable {
                case nextToken, teacher
                /// The next (sampled) token, weighted per position by MiniLLM's advantage: a policy-gradient
                /// term −A_t·log p(y_t) with the teacher's log-ratio reward (Distiller.advantages).
                case advantage
            }
            public var divergence: Divergence, against: Against, weight: Double
            /// The metrics-log name of the term (when a loss has more than one).
            public var metricName: String {
                against == .advantage ? "loss_policy" : divergence == .crossEntropy ? "loss_ce" : "loss_divergence"
            }
        }

        public var sequences: Sequences
        public var teacher: Teacher
        public var terms: [Term]
    }

    /// The one place that says what each method is.
    public var recipe: Recipe {
        switch self {
        case .promptkd:
            Recipe(sequences: .studentSamples, teacher: .promptedTeacher, terms: [.init(divergence: .reverseKL, against: .teacher, weight: 1)])
        case .kd:
            Recipe(sequences: .data, teacher: .teacher, terms: [.init(divergence: .crossEntropy, against: .nextToken, weight: 0.5),
                                                                .init(divergence: .forwardKL, against: .teacher, weight: 0.5)])
        case .seqkd:
            Recipe(sequences: .cachedTeacherSamples, teacher: .teacher,
                   terms: [.init(divergence: .crossEntropy, against: .nextToken, weight: 0.5),
                           .init(divergence: .forwardKL, against: .teacher, weight: 0.5)])
        case .rkl:
            Recipe(sequences: .studentSamples, teacher: .teacher, terms: [.init(divergence: .reverseKL, against: .teacher, weight: 1)])
        case .gkd:
            Recipe(sequences: .replayedStudentSamples(probability: 0.5), teacher: .teacher,
                   terms: [.init(divergence: .jensenShannon(beta: 0.9), against: .teacher, weight: 1)])
        case .imitkd:
            Recipe(sequences: .replayedStudentSamples(probability: 1), teacher: .teacher,
                   terms: [.init(divergence: .forwardKL, against: .teacher, weight: 1)])
        case .minillm:
            Recipe(sequences: .studentSamples, teacher: .teacher,
                   terms: [.init(divergence: .crossEntropy, against: .advantage, weight: 1),
                           .init(divergence: .reverseKL, against: .teacher, weight: 1)])
        case .distillm:
            Recipe(sequences: .adaptiveReplay, teacher: .teacher, terms: [.init(divergence: .skewKL(alpha: 0.1), against: .teacher, weight: 1)])
        case .sft:
            Recipe(sequences: .data, teacher: .none, terms: [.init(divergence: .crossEntropy, against: .nextToken, weight: 1)])
        }
    }
}
