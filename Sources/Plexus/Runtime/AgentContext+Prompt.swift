import PlexusCore
import PlexusLLM
import PlexusMemory

/// What the runtime puts in a prompt from the agent's memory.
public struct PromptMemoryOptions: Sendable, Hashable {
    /// Tokens of `memory.window` (``PlexusMemory/AgentMemory/contextWindow(budget:options:)``); 0 leaves it out.
    public var windowBudget: Int
    /// How many of the latest facts `facts` lists; 0 lists none.
    public var facts: Int

    public init(windowBudget: Int = 600, facts: Int = 20) {
        self.windowBudget = windowBudget
        self.facts = facts
    }
}

extension AgentContext {
    /// The values of a prompt about `messages` (oldest first): this agent's entry, the
    /// messages, its memory window and latest facts (when the runtime has a memory
    /// database), its actuator tools and the answer schema.
    ///
    /// Render a template with them through the agent's rails:
    ///
    /// ```swift
    /// let model = try context.model
    /// let prompt = await model.render(try context.prompt, with: await context.promptContext(for: [message]))
    /// guard !prompt.isBlocked else { return }                 // an input rail blocked; the alert is shared
    /// let answer = try await model.complete(ChatRequest(messages: [.system("You watch the house."), prompt.message]))
    /// ```
    ///
    /// A memory that cannot be read is logged and left out: the model call goes on with
    /// what there is.
    public func promptContext(
        for messages: [AgentMessage], memory options: PromptMemoryOptions = PromptMemoryOptions(), answerSchema: JSONValue? = nil
    ) async -> PromptContext {
        let agent = PromptContext.Agent(
            id: agentID, type: entry?.type ?? "", model: entry?.model, subjects: shareSubjects,
            subscriptions: entry?.subscriptions.map(\.filter.string) ?? [], actuators: actuators)
        var context = PromptContext(
            agent: agent, messages: messages.map(Self.promptMessage), tools: actuatorTools, answerSchema: answerSchema,
            now: currentTime)
        guard let agentMemory else { return context }
        do {
            if options.windowBudget > 0 {
                let window = try await agentMemory.contextWindow(budget: options.windowBudget)
                let omitted = window.omitted.map { "\($0.count) \($0.section.rawValue)" }.joined(separator: ", ")
                context.memory = PromptContext.Memory(
                    window: window.text, trust: window.trust, isComplete: window.isComplete,
                    omitted: omitted.isEmpty ? "" : omitted + " left out")
            }
            if options.facts > 0 {
                context.facts = try await agentMemory.currentFacts(limit: options.facts).map { fact in
                    PromptContext.Fact(
                        subject: fact.subject, predicate: fact.predicate, value: fact.value, source: fact.source, time: fact.validFrom,
                        trust: fact.trust)
                }
            }
        } catch {
            logger.error("could not read memory for a prompt; going on without it", metadata: ["error": "\(error)"])
        }
        return context
    }

    /// A message as a prompt shows it: a context message with its attributes, a raw
    /// payload as `untrusted` text.
    static func promptMessage(_ message: AgentMessage) -> PromptContext.Message {
        if let context = message.context { return PromptContext.Message(context, topic: message.topic) }
        return PromptContext.Message(topic: message.topic, text: message.mqtt.payloadString, trust: .untrusted)
    }
}
